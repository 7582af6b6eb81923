import { describe, expect, it } from 'vitest'
import type { SourceName } from '../../../../src/telemetry/event.js'
import { parseLine } from '../../../../src/telemetry/normalize.js'
import { fixtureText } from '../../telemetry/fixtures.js'
import { rule } from './helpers.js'

describe('prefilter literals', () => {
  it('comes from mandatory positive tests on raw fields', () => {
    expect(rule('verb=list objectRef.resource=secrets').prefilter).toEqual(['secrets']) // the longer literal
    expect(rule('objectRef.resource IN (secrets, "pods")').prefilter).toEqual(['secrets', 'pods'])
    expect(rule('verb=get OR verb=list').prefilter).toEqual(['get', 'list'])
    expect(rule('user.username="system:serviceaccount:*" verb=get').prefilter).toEqual([
      'system:serviceaccount:',
    ])
    expect(rule('user.username="*:serviceaccount:*"').prefilter).toEqual([':serviceaccount:'])
    expect(rule('responseStatus.code=403').prefilter).toEqual(['403'])
    expect(rule('sourcetype=kubernetes:api verb=GET').prefilter).toEqual(['get'])
  })

  it.each([
    ['Command="kubectl exec"', 'derived field'],
    ['action=create', 'alias field'],
    ['container_name=victim', 'alias field'],
    ['image=alpine', 'alias field'],
    ['user=root', 'alias field'],
    ['container=victim', 'alias field'],
    ['index=containers sourcetype=docker:events', 'envelope fields'],
    ['NOT verb=get', 'negation'],
    ['verb!=get', '!='],
    ['requestURI="/api/v1/secrets"', 'a / can be escaped in JSON'],
    ['userAgent="say \\"hi\\""', 'escapable characters'],
    ['verb=get OR Command="kubectl exec"', 'an OR branch without literals'],
    ['responseStatus.code>=400', 'numeric comparison'],
    ['timeNano=1795773600123456789', 'integer beyond float64 precision'],
    ['latency=1.50', 'non-canonical number'],
    ['canary-db', 'keyword (raw text is the normalized record, not the line)'],
    ['userAgent=*', 'match-all'],
  ])('is undefined for %s (%s)', (search) => {
    expect(rule(search).prefilter).toBeUndefined()
  })

  // Safety: whenever a rule matches an event, one of its literals occurs in the line it came from.
  it('never rejects a line whose event matches', () => {
    const corpus: [string, SourceName][] = [
      ['k8s-audit.jsonl', 'k8s-audit'],
      ['k8s-audit-eventlist.json', 'k8s-audit'],
      ['docker-events.jsonl', 'docker-events'],
      ['docker-api.jsonl', 'docker-api'],
      ['dockerd-debug.log', 'docker-api'],
      ['victim-json.log', 'container-logs'],
      ['container-logs.jsonl', 'container-logs'],
    ]
    const rules = [
      'verb=get',
      'objectRef.resource IN (secrets, pods) verb IN (create, delete, patch)',
      'user.username="kubernetes-*"',
      'responseStatus.code=101',
      'stage=ResponseStarted objectRef.subresource=exec',
      '(verb=list OR verb=delete) objectRef.namespace=t1552',
      'Actor.Attributes.name=victim Type=container',
      'status="exec_create: sh -c id"',
      'method=GET',
      'method=post',
      'stream=stderr line="*secret_access_key*"',
      'client="Docker-Client*"',
    ].map(rule)
    let checked = 0
    for (const [file, source] of corpus) {
      for (const [i, line] of fixtureText(file).split('\n').entries()) {
        const lower = line.toLowerCase()
        for (const event of parseLine(line, source, { container: 'victim', origin: { file, line: i + 1 } })) {
          for (const r of rules) {
            expect(r.prefilter, r.id).toBeDefined()
            if (!r.match(event)) continue
            checked++
            expect(
              r.prefilter?.some((literal) => lower.includes(literal)),
              `${file}:${i + 1}`,
            ).toBe(true)
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(20)
  })
})
