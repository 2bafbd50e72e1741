// Writes each project's test counts to reports/jest/<project>.json so the
// test command can print one `N passed, N failed` line for the whole run.
const { mkdirSync, writeFileSync } = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  constructor(_globalConfig, options) {
    this.project = options.project;
  }

  onRunComplete(_contexts, results) {
    const dir = path.join(__dirname, '..', '..', 'reports', 'jest');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${this.project.replace(/[@/]/g, '_')}.json`);
    const summary = {
      project: this.project,
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
      suites: results.numTotalTestSuites,
      failedSuites: results.numFailedTestSuites,
    };
    writeFileSync(file, JSON.stringify(summary, null, 2));
  }
}

module.exports = SummaryReporter;
