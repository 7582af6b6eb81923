// The bench's floor, run as its own process like the CLI: read every line of the events file with the
// engine's line reader, decode it and JSON.parse it. Usage: node dist/bench/floor.js <events.jsonl>
import { forEachLine } from '../detection/engine.js'

const file = process.argv[2]
if (!file) throw new Error('usage: floor.js <events.jsonl>')
let sink = 0
const lines = await forEachLine(file, (bytes, start, end) => {
  const record = JSON.parse(bytes.toString('utf8', start, end)) as { verb?: string }
  if (record.verb === 'delete') sink++
})
process.stdout.write(`${lines} lines, ${sink} deletes\n`)
