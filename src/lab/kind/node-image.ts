// `purplekind lab build --env kind`: runs kind/node-image/build.sh, which builds the node image and the
// images the lab runs in it from Go modules, Debian packages and the host's venv — no registry.

import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { execa } from 'execa'
import { PurpleError } from '../../errors.js'
import { cacheRoot, packageRoot } from '../assets.js'

export async function buildNodeImage(log: (line: string) => void): Promise<string> {
  const script = join(packageRoot(), 'kind', 'node-image', 'build.sh')
  log(`building the kind node image with ${script} (first time: ~15-30 min on 2 cores; then cached)`)
  const child = execa('bash', [script, 'all'], {
    env: { PURPLEKIND_CACHE: cacheRoot() },
    reject: false,
  })
  if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => line.trim() && log(line))
  const result = await child
  const image = result.stdout.trim().split('\n').pop() ?? ''
  if (result.exitCode !== 0 || !image) {
    throw new PurpleError('PURPLE_ASSETS_MISSING', `kind node image build failed (exit ${result.exitCode})`, {
      hint: `needs root, go, gcc, python3, Docker and the host's containerd; rerun: bash ${script}`,
    })
  }
  return image
}
