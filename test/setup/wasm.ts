// vitest global setup: tests import src/ directly, but the literal scanner loads its compiled
// WebAssembly from dist/wasm/. Build it when it is missing or older than its source (`npm run build`
// does the same), so a plain `vitest run` works on a fresh clone.
import { execFileSync } from 'node:child_process'
import { statSync } from 'node:fs'

const SOURCE = 'wasm/literal-scan.ts'
const OUTPUT = 'dist/wasm/literal-scan.wasm'

const mtime = (file: string) => {
  try {
    return statSync(file).mtimeMs
  } catch {
    return undefined
  }
}

export default function setup(): void {
  const built = mtime(OUTPUT)
  if (built !== undefined && built >= (mtime(SOURCE) ?? 0)) return
  execFileSync('npm', ['run', '--silent', 'build:wasm'], { stdio: 'inherit' })
}
