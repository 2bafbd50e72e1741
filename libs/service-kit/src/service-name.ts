/** Dependency-injection token for the running service's name ("journey", …). */
export const SERVICE_NAME = Symbol('SERVICE_NAME');
