// The `yaml` package for the rule loaders, loaded on first use: `evaluate` over Sigma rules whose parsed
// documents are all cached (detection/sigma/doc-cache.ts) never parses YAML, and loading the package
// was ~30 ms of its start-up. The package is CommonJS, so it loads synchronously.
import { createRequire } from 'node:module'
import type * as Yaml from 'yaml'

let loaded: typeof Yaml | undefined

export function yaml(): typeof Yaml {
  loaded ??= createRequire(import.meta.url)('yaml') as typeof Yaml
  return loaded
}
