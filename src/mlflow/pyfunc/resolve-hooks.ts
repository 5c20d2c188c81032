/**
 * Node module-customization hooks (registered by model-code.ts with `module.register`): a bare import
 * made by a model's entry module that fails where the model is stored is retried from the fallback
 * parents (the application's working directory, then ortgenai-node itself). Only modules imported with
 * the model query key are affected, so the rest of the process resolves as usual.
 */
interface HookData {
  queryKey: string;
  fallbacks: string[];
}
interface ResolveContext {
  parentURL?: string;
  conditions?: string[];
  importAttributes?: Record<string, string>;
}
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<unknown>;

let data: HookData = { queryKey: '', fallbacks: [] };

export function initialize(init: HookData): void {
  data = init;
}

const BARE = /^(?![./]|[a-zA-Z][a-zA-Z0-9+.-]*:)/;

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): Promise<unknown> {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    const fromModel = context.parentURL !== undefined && data.queryKey !== '' && context.parentURL.includes(`${data.queryKey}=`);
    if (!fromModel || !BARE.test(specifier) || (err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    for (const parentURL of data.fallbacks) {
      try {
        return await nextResolve(specifier, { ...context, parentURL });
      } catch {
        // try the next fallback parent
      }
    }
    throw err;
  }
}
