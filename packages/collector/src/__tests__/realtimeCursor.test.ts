import { describe, expect, it } from 'vitest';
import { HttpError } from '../errors';
import { isChannelName } from '../realtime/channels';
import { parsePollQuery } from '../realtime/pollQuery';
import { checkResume, planResume } from '../realtime/resolveCursor';

describe('channel names (protocol 9.1)', () => {
  it('takes the fixed channels and metrics:<name> of 1 to 200 characters without control characters', () => {
    for (const ok of ['events', 'alerts', 'insights', 'health', 'metrics:$events', 'metrics:Order Completed', `metrics:${'é'.repeat(200)}`]) {
      expect(isChannelName(ok), ok).toBe(true);
    }
    for (const bad of ['', 'event', 'metrics:', `metrics:${'a'.repeat(201)}`, 'metrics:a\nb', 'metrics:\u0000', 'other', 42, null]) {
      expect(isChannelName(bad), String(bad)).toBe(false);
    }
  });
});

describe('planResume / checkResume (protocol 9.2)', () => {
  const head = { epoch: 'e1', lastSeq: 50 };
  it('no cursor: new at the newest seq', () => expect(planResume(null, head, 10)).toBe('new'));
  it('another epoch or a cursor ahead: reset', () => {
    expect(planResume({ since: 40, epoch: 'e0' }, head, 10)).toBe('reset');
    expect(planResume({ since: 51, epoch: 'e1' }, head, 10)).toBe('reset');
  });
  it('a cursor at the head is current', () => expect(planResume({ since: 50, epoch: 'e1' }, head, 10)).toBe('current'));
  it('a cursor the count bound still holds is read; an older one is reset', () => {
    expect(planResume({ since: 40, epoch: 'e1' }, head, 10)).toBe('read');
    expect(planResume({ since: 39, epoch: 'e1' }, head, 10)).toBe('reset');
  });
  it('resumes only when the first message read is since + 1', () => {
    expect(checkResume(40, 41)).toBe('resume');
    expect(checkResume(40, 43)).toBe('reset');
    expect(checkResume(40, undefined)).toBe('reset');
  });
});

describe('parsePollQuery (protocol 9.4)', () => {
  const parse = (query: Record<string, unknown>) => parsePollQuery(query, 100);
  const status = (query: Record<string, unknown>) => {
    try {
      parse(query);
      return 200;
    } catch (error) {
      return error instanceof HttpError ? `${error.statusCode} ${error.code}` : 'threw';
    }
  };

  it('pairs the i-th since and epoch with the i-th channel; an empty since is no cursor', () => {
    expect(parse({ channel: ['events', 'metrics:x'], since: ['41', ''], epoch: ['k3', ''], wait: '0' })).toEqual({
      requests: [
        { channel: 'events', since: 41, epoch: 'k3' },
        { channel: 'metrics:x', since: null, epoch: null },
      ],
      wait: 0,
    });
    expect(parse({ channel: 'events', since: '', epoch: '' }).wait).toBe(25);
  });

  it('answers 400 invalid_query for unequal repetitions, bad since or wait, and too many channels', () => {
    const bad = '400 invalid_query';
    expect(status({})).toBe(bad);
    expect(status({ channel: 'events', since: '' })).toBe(bad);
    expect(status({ channel: ['events', 'alerts'], since: ['', ''], epoch: '' })).toBe(bad);
    for (const since of ['-1', '1.0', '1e3', '0x10', '+5', ' 5', '99999999999999999999']) {
      expect(status({ channel: 'events', since, epoch: 'e' }), since).toBe(bad);
    }
    expect(status({ channel: 'events', since: '5', epoch: '' })).toBe(bad);
    for (const wait of ['26', '-1', '1.5', '', 'x']) expect(status({ channel: 'events', since: '', epoch: '', wait }), wait).toBe(bad);
    expect(status({ channel: ['events', 'events'], since: ['', ''], epoch: ['', ''] })).toBe(bad);
    const many = Array.from({ length: 101 }, (_, i) => `metrics:m${i}`);
    expect(status({ channel: many, since: many.map(() => ''), epoch: many.map(() => '') })).toBe(bad);
  });

  it('leaves channel names to the error frame', () => {
    expect(parse({ channel: 'nope', since: '', epoch: '' }).requests).toEqual([{ channel: 'nope', since: null, epoch: null }]);
  });
});
