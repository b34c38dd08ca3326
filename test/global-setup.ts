// Starts one Prism mock of openapi.yaml for the whole run and always stops it.
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startPrismMock } from '../scripts/prism-mock.js';

declare module 'vitest' {
  export interface ProvidedContext {
    prismUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const prism = await startPrismMock();
  project.provide('prismUrl', prism.url);
  return () => prism.stop();
}
