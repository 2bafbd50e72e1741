import { emptyBuilderFields, fieldsOfFilter, filterOfFields, isPrice } from './payload-filter-builder';

// Scenarios: the builder's fields become the filter the API takes (prices in cents), and back; a filter it
// cannot show (written through the API) is recognised as such; empty fields mean no filter.
describe('payload filter builder', () => {
  it('builds the filter of the common cases, prices in cents', () => {
    expect(filterOfFields(emptyBuilderFields)).toBeNull();
    expect(filterOfFields({ courseId: ' crs_data_science ', phase: '', priceAbove: '', priceBelow: '' })).toEqual({ 'course.id': 'crs_data_science' });
    expect(filterOfFields({ courseId: '', phase: 'won', priceAbove: '1000', priceBelow: '12345,50' })).toEqual({ phase: 'won', 'course.price_cents': { $gt: 100000, $lt: 1234550 } });
  });

  it('reads back what it built, and refuses to show what it cannot build', () => {
    const fields = { courseId: 'crs_1', phase: 'open', priceAbove: '99.9', priceBelow: '' };
    expect(fieldsOfFilter(filterOfFields(fields))).toEqual(fields);
    expect(fieldsOfFilter(null)).toEqual(emptyBuilderFields);
    expect(fieldsOfFilter({ $or: [{ phase: 'won' }, { phase: 'open' }] })).toBeNull();
    expect(fieldsOfFilter({ 'course.price_cents': { $gte: 100 } })).toBeNull();
    expect(fieldsOfFilter({ status: 'paid' })).toBeNull();
  });

  it('takes prices with a comma or a point, at most two decimals', () => {
    expect(['', '10', '10.5', '10,25'].every(isPrice)).toBe(true);
    expect(['abc', '-5', '1.234', '1e5'].some(isPrice)).toBe(false);
  });
});
