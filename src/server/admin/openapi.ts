/**
 * docs/openapi.json, generated from the admin API's own route table (protocol/adminApi.ts): the request
 * schemas are the rules the server validates with, so the document cannot drift from the handlers.
 * `zegoclient-server openapi` prints it; spec/unit/openapi.test.ts checks the committed file against it.
 */
import {
  ADMIN_API_PREFIX,
  ADMIN_ERROR_BODY,
  ADMIN_ERRORS,
  ADMIN_HEADERS,
  ADMIN_ROUTES,
  ADMIN_ROUTE_NAMES,
} from '../../protocol/adminApi';
import { toJsonSchema, type JsonSchema } from '../../protocol/jsonSchema';

const SECURITY_TEXT =
  "Every request is signed with the app's adminSecret: X-Zego-Signature = hex HMAC-SHA256(adminSecret, " +
  '"ZEGO-ADMIN-HMAC-SHA256\\n" + method + "\\n" + request target + "\\n" + appid + "\\n" + timestamp + "\\n" + ' +
  'nonce + "\\n" + hex SHA-256(body)), beside X-Zego-Appid, X-Zego-Timestamp (Unix seconds, within ' +
  'admin.maxSkewS of the server) and X-Zego-Nonce (16-64 of A-Z a-z 0-9 _ -, never reused). See docs/admin.md.';

/** The admin API's version (the document's info.version): a change that breaks a caller bumps it. */
export const ADMIN_API_VERSION = '1.0.0';

/** The OpenAPI 3.1 document of the admin API. */
export function buildOpenApi(): JsonSchema {
  const errorRef = { $ref: '#/components/schemas/Error' };
  const errorStatuses = [...new Set(Object.values(ADMIN_ERRORS).map((e) => e.status))].sort();
  const headerParams = Object.keys(ADMIN_HEADERS).map((k) => ({ $ref: `#/components/parameters/${k}` }));
  const paths: Record<string, unknown> = {};
  for (const name of ADMIN_ROUTE_NAMES) {
    const r = ADMIN_ROUTES[name];
    const responses: Record<string, unknown> = {
      '200': {
        description: 'Done',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: { code: { const: 0 }, data: toJsonSchema(r.response) },
              required: ['code', 'data'],
            },
          },
        },
      },
    };
    for (const status of errorStatuses)
      responses[String(status)] = {
        description: Object.entries(ADMIN_ERRORS)
          .filter(([, e]) => e.status === status)
          .map(([n, e]) => `${e.code} ${n}`)
          .join(', '),
        content: { 'application/json': { schema: errorRef } },
      };
    paths[`${ADMIN_API_PREFIX}${name}`] = {
      post: {
        operationId: name,
        summary: r.summary,
        security: [{ adminSignature: [] }],
        parameters: headerParams,
        requestBody: { required: true, content: { 'application/json': { schema: toJsonSchema(r.request) } } },
        responses,
      },
    };
  }
  const parameters: Record<string, unknown> = {
    appid: {
      name: ADMIN_HEADERS.appid,
      in: 'header',
      required: true,
      schema: { type: 'string', pattern: '^\\d{1,10}$' },
      description: 'The app',
    },
    timestamp: {
      name: ADMIN_HEADERS.timestamp,
      in: 'header',
      required: true,
      schema: { type: 'string', pattern: '^\\d{1,12}$' },
      description: 'Unix seconds, within admin.maxSkewS of the server clock',
    },
    nonce: {
      name: ADMIN_HEADERS.nonce,
      in: 'header',
      required: true,
      schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{16,64}$' },
      description: 'Unique per request (a replay is refused)',
    },
    signature: {
      name: ADMIN_HEADERS.signature,
      in: 'header',
      required: true,
      schema: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
      description: 'Hex HMAC-SHA256 of the canonical text (docs/admin.md)',
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'zegoclient-shim admin API',
      version: ADMIN_API_VERSION,
      description:
        'Rooms, users and streams of one app: list, kick, close, end, message, mint tokens. Generated from ' +
        'src/protocol/adminApi.ts (npm run openapi); docs/admin.md explains signing with examples.',
    },
    paths,
    components: {
      schemas: { Error: toJsonSchema(ADMIN_ERROR_BODY) },
      parameters,
      securitySchemes: {
        adminSignature: {
          type: 'apiKey',
          in: 'header',
          name: ADMIN_HEADERS.signature,
          description: SECURITY_TEXT,
        },
      },
    },
  };
}
