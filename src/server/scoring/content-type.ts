import { pyRepr } from '../../mlflow/pycompat/repr.js';

/**
 * MLflow's Content-Type rules for `/invocations` (mlflow-format.md §7.3): only a utf-8 `charset`
 * parameter is allowed, and the type must be JSON or CSV. Violations answer 415 with these exact texts.
 */

export const CONTENT_TYPE_JSON = 'application/json';
export const CONTENT_TYPE_CSV = 'text/csv';
const CONTENT_TYPES = [CONTENT_TYPE_CSV, CONTENT_TYPE_JSON];

export const SCORING_PROTOCOL_CHANGE_INFO =
  'IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you are seeing this error, ' +
  'you are likely using an outdated scoring request format. To resolve the error, either update your request ' +
  "format or adjust your MLflow Model's requirements file to specify an older version of MLflow (for example, " +
  "change the 'mlflow' requirement specifier to 'mlflow==1.30.0'). If you are making a request using the MLflow " +
  'client (e.g. via `mlflow.pyfunc.spark_udf()`), upgrade your MLflow client to a version >= 2.0 in order to use ' +
  'the new request format. For more information about the updated MLflow Model scoring protocol in MLflow 2.0, ' +
  'see https://mlflow.org/docs/latest/models.html#deploy-mlflow-models.';

export type ContentTypeCheck = { ok: true; mime: 'application/json' | 'text/csv' } | { ok: false; message: string };

export function checkContentType(header: string | undefined): ContentTypeCheck {
  // No header at all: MLflow fails inside its handler (`None.split`); we answer the same 415 as for a wrong type.
  const [mime = '', ...pairs] = (header ?? '').split(';').map((part) => part.trim());
  const params = new Map(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      return at < 0 ? [pair, ''] : [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
    }),
  );
  const charset = (params.get('charset') ?? 'utf-8').replace(/^"(.*)"$/, '$1').toLowerCase();
  if (charset !== 'utf-8') return { ok: false, message: 'The scoring server only supports UTF-8' };
  const unexpected = [...params.keys()].filter((k) => k !== 'charset');
  if (unexpected.length > 0) {
    return { ok: false, message: `Unrecognized content type parameters: ${unexpected.join(', ')}. ${SCORING_PROTOCOL_CHANGE_INFO}` };
  }
  const lower = mime.toLowerCase();
  if (lower === CONTENT_TYPE_JSON || lower === CONTENT_TYPE_CSV) return { ok: true, mime: lower };
  return {
    ok: false,
    message: `This predictor only supports the following content types: Types: ${pyRepr(CONTENT_TYPES)}. Got '${header ?? ''}'.`,
  };
}

