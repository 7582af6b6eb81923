import { describe, expect, it } from 'vitest'
import { type DockerApiRecord, HttpObserver } from '../../../../src/lab/docker/http-observer.js'

const T = new Date('2026-01-02T03:04:05.000Z')

function observe() {
  const records: DockerApiRecord[] = []
  const o = new HttpObserver(
    7,
    (r) => records.push(r),
    () => T,
  )
  return {
    o,
    records,
    c: (s: string) => o.fromClient(Buffer.from(s)),
    s: (x: string) => o.fromServer(Buffer.from(x)),
  }
}

describe('HttpObserver', () => {
  it('records method, path, query, status and user agent of one call', () => {
    const { c, s, records } = observe()
    c(
      'GET /v1.41/containers/victim/logs?stdout=1&stderr=1 HTTP/1.1\r\nHost: docker\r\nUser-Agent: Docker-Client/28.2.2 (linux)\r\n\r\n',
    )
    expect(records).toEqual([])
    s('HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n\r\n')
    expect(records).toEqual([
      {
        time: T.toISOString(),
        method: 'GET',
        path: '/v1.41/containers/victim/logs',
        query: 'stdout=1&stderr=1',
        status: 200,
        client: 'Docker-Client/28.2.2 (linux)',
        conn: 7,
        upgraded: true,
      },
    ])
  })

  it('follows Content-Length and chunked bodies across split chunks on a keep-alive connection', () => {
    const { c, s, records } = observe()
    c('POST /v1.41/containers/create?name=a HTTP/1.1\r\nContent-Length: 13\r\n\r\n{"Image":')
    c('"x"}GET /v1.41/containers/a/json HTTP/1.1\r\n')
    c('\r\nPOST /images/create?fromSrc=- HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab')
    c('cde\r\n3\r\nxyz\r\n0\r\n\r\nHEAD /_ping HTTP/1.1\r\n\r\n')
    s('HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\n{}\r\n')
    s('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n')
    s('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nok\r\n\r\n0\r\n\r\n')
    s('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n')
    expect(records.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'POST /v1.41/containers/create 201',
      'GET /v1.41/containers/a/json 200',
      'POST /images/create 200',
      'HEAD /_ping 200',
    ])
  })

  it('stops parsing after an upgrade so hijacked bytes are not mistaken for requests', () => {
    const { c, s, records } = observe()
    c(
      'POST /v1.41/exec/abc/start HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 2\r\n\r\n{}',
    )
    s('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n')
    c('GET /fake HTTP/1.1\r\n\r\n')
    s('HTTP/1.1 200 OK\r\n\r\n')
    expect(records).toHaveLength(1)
    expect(records[0]).toMatchObject({ path: '/v1.41/exec/abc/start', status: 101, upgraded: true })
  })

  it('ignores 100 Continue and reports calls left unanswered at close', () => {
    const { c, s, o, records } = observe()
    c('POST /build HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\nGET /events HTTP/1.1\r\n\r\n')
    s('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n')
    o.close()
    o.close()
    expect(records.map((r) => `${r.path} ${r.status}`)).toEqual(['/build 500', '/events undefined'])
  })

  it('gives up (without throwing) on a malformed chunk size', () => {
    const { c, s, records } = observe()
    c('GET /a HTTP/1.1\r\n\r\n')
    s('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nHTTP/1.1 200 OK\r\n\r\n')
    expect(records).toHaveLength(1)
  })
})
