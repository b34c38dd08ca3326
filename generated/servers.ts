/**
 * This file was auto-generated from openapi.yaml (servers, by x-region) by scripts/generate.ts.
 * Do not make direct changes to the file.
 */

/** The base URL of each region's host; the first is the default. */
export const regionBaseUrls = {
  "global": "https://openapi.longbridge.com",
  "cn": "https://openapi.longbridge.cn",
} as const;
