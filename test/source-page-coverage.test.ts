// Every header, field and value of the 2022-04-21 documentation page the spec was first
// written from (a verbatim copy is in test/fixtures/source-page/) can be pointed to in openapi.yaml.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSpec } from '../src/contract/spec-validator.js';

const page = readFileSync(new URL('./fixtures/source-page/refresh-token-api.md', import.meta.url), 'utf8');
const spec = loadSpec();
const operation = spec.paths['/v1/openapi/token/refresh'].post;
const schemas = spec.components.schemas;
const resolve = (ref: string) => ref.replace('#/', '').split('/').reduce((node: any, key) => node[key], spec);
const parameters = operation.parameters.map((p: any) => (p.$ref ? resolve(p.$ref) : p));

/** The first column of the markdown table under `heading`, without the ∟ markers. */
function tableNames(heading: string): string[] {
  const section = page.split(heading)[1]!.split(/\n#+ /)[0]!;
  return section
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line))
    .slice(1)
    .map((line) => line.split('|')[1]!.replace(/<[^>]+>∟<\/font>/g, '').trim())
    .filter(Boolean);
}

describe('the 2022-04-21 documentation page, point by point, in openapi.yaml', () => {
  it('the basic information: URL, method, permission, dates and titles', () => {
    expect(page).toContain('/v1/openapi/token/refresh');
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/v1/openapi/token/refresh']));
    expect(Object.keys(spec.paths['/v1/openapi/token/refresh'])).toContain('post');
    expect(operation.operationId).toBe('refreshToken');
    expect(operation['x-permission']).toMatch(/^无/);
    expect(operation['x-page-last-updated']).toBe('2022-04-21');
    expect(spec.info['x-source-page']).toMatchObject({ source: 'refresh-token-api.md', lastUpdated: '2022-04-21' });
    expect(operation.summary).toContain('刷新 token');
    expect(operation.summary).toContain('创建 token');
  });

  it('each request header of the page', () => {
    const names = tableNames('### 请求头');
    expect(names).toEqual(['Authorization', 'Content-Type', 'Account-Channel']);
    expect(spec.components.securitySchemes.AccessToken).toMatchObject({ type: 'apiKey', in: 'header', name: 'Authorization' });
    expect(spec.security).toContainEqual({ AccessToken: [] });
    expect(Object.keys(operation.requestBody.content)).toEqual(['application/json; charset=utf-8']);
    const channel = parameters.find((p: any) => p.name === 'Account-Channel');
    expect(channel).toMatchObject({ in: 'header', required: true });
    expect(schemas.AccountChannel.enum).toEqual(['lb', 'pspl_sg']);
    expect(schemas.AccountChannel['x-enum-descriptions']).toEqual({
      lb: expect.stringContaining('长桥'),
      pspl_sg: expect.stringContaining('新加坡辉立'),
    });
  });

  it('each request parameter of the page, with its type, requiredness and example', () => {
    expect(tableNames('### 请求参数')).toEqual(['expired_at', 'aaid']);
    const body = schemas.RefreshTokenRequest;
    expect(body.required).toEqual(['expired_at', 'aaid']);
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.expired_at).toMatchObject({ type: 'string', format: 'date-time', example: '2023-04-14T12:13:57.859Z' });
    expect(page).toContain('2023-04-14T12:13:57.859Z');
    expect(body.properties.aaid).toMatchObject({ type: 'string', minLength: 1 });
    expect(body.properties.aaid.description).toContain('指定创建 token 的账户');
  });

  it('each response field of the page, nested as on the page', () => {
    expect(tableNames('### 响应体\n')).toEqual([
      'code', 'msg', 'data', 'token', 'expired_at', 'issued_at', 'account_info', 'member_id', 'aaid', 'account_channel',
    ]);
    // The envelope: code and data, with the message under `message` or `msg` (one variant each).
    const variants = schemas.RefreshTokenSuccess.anyOf.map((v: any) => v.allOf.map((part: any) => resolve(part.$ref)));
    expect(variants.map(([fields]: any[]) => Object.keys(fields.properties))).toEqual([['code', 'data'], ['code', 'data']]);
    expect(variants.map(([, key]: any[]) => Object.keys(key.properties))).toEqual([['message'], ['msg']]);
    expect(schemas.SuccessFields.properties.code.type).toBe('integer');
    expect(Object.keys(schemas.RefreshTokenData.properties)).toEqual(['token', 'expired_at', 'issued_at', 'account_info']);
    expect(Object.keys(schemas.AccountInfo.properties)).toEqual(['member_id', 'aaid', 'account_channel']);
    for (const name of ['token', 'expired_at', 'issued_at']) expect(schemas.RefreshTokenData.properties[name].type).toBe('string');
    for (const name of ['member_id', 'aaid']) expect(schemas.AccountInfo.properties[name].type).toBe('string');
  });

  it('the page example’s `message` key and its discrepancy with the table’s `msg`', () => {
    expect(page).toMatch(/'message': ''/);
    expect(spec.info.description).toContain('Envelope discrepancy');
    const success = operation.responses['200'].content['application/json'].examples;
    expect(Object.values(success).map((e: any) => Object.keys(e.value))).toEqual([
      ['code', 'message', 'data'],
      ['code', 'msg', 'data'],
    ]);
  });
});
