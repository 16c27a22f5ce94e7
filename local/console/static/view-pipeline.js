import { api, badge, dateTime, errorBox, every, h, header, time } from './ui.js';

/** Pipeline: every component's health, the lag of the Pipe and of each Kinesis reader, events per second, the canary's last run. */
export const pipelineView = {
  title: 'Pipeline',
  render(main) {
    const content = h('div', { 'aria-live': 'off' }, h('p', { class: 'muted' }, 'Loading…'));
    const updated = h('p', { class: 'muted', role: 'status' });
    main.append(header('Pipeline', 'Health from the supervisor’s heartbeats (GET /health); lag from each reader’s persisted positions against what its stream holds now.'), updated, content);
    return every(2_000, async () => {
      try {
        const status = await api('/pipeline');
        content.replaceChildren(render(status));
        updated.textContent = `Updated ${time(status.at)} — ${status.health.status === 'ok' ? 'all components ready' : 'some components are not ready'}`;
      } catch (error) {
        content.replaceChildren(errorBox(error));
      }
    });
  },
};

function render(status) {
  const components = Object.entries(status.health.components);
  const stages = [
    ['Event store', 'dynamodb'],
    ['Pipe', 'pipe'],
    ['Kinesis', 'kinesis'],
    ['Consumers', 'consumers'],
    ['Archiver', 'archiver'],
    ['S3 archive', 's3'],
  ];
  return h(
    'div',
    {},
    h(
      'ol',
      { class: 'flow', 'aria-label': 'Data flow' },
      stages.map(([label, name]) => {
        const component = status.health.components[name];
        return h('li', { class: component?.ready ? 'up' : 'down' }, h('span', { class: 'flow-name' }, label), badge(component?.ready ? 'ready' : 'down', component?.ready ? 'ok' : 'error'));
      }),
    ),
    h(
      'div',
      { class: 'stats' },
      h('div', { class: 'card stat-card' }, h('span', { class: 'stat-value' }, status.eventsPerSecond.toFixed(1)), h('span', { class: 'stat-label' }, 'events/s into Kinesis (last 10 s)')),
      status.lag.map((reader) =>
        h(
          'div',
          { class: `card stat-card ${reader.recordsBehind > 0 ? 'behind' : ''}` },
          h('span', { class: 'stat-value' }, `${reader.recordsBehind}${reader.capped ? '+' : ''}`),
          h('span', { class: 'stat-label' }, `records behind: ${reader.name}`),
        ),
      ),
    ),
    canarySection(status.canary),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'components-heading' },
      h('h2', { id: 'components-heading' }, 'Components'),
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ['Component', 'State', 'Heartbeat', 'Detail'].map((title) => h('th', { scope: 'col' }, title)))),
        h(
          'tbody',
          {},
          components.map(([name, component]) => {
            const beat = status.heartbeats[name] ?? {};
            return h(
              'tr',
              {},
              h('th', { scope: 'row' }, name),
              h('td', {}, badge(component.ready ? 'ready' : 'not ready', component.ready ? 'ok' : 'error')),
              h('td', {}, beat.ageMs === undefined ? '—' : `${(beat.ageMs / 1000).toFixed(1)} s ago (pid ${beat.pid})`),
              h('td', {}, component.detail ?? ''),
            );
          }),
        ),
      ),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'lag-heading' },
      h('h2', { id: 'lag-heading' }, 'Lag'),
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ['Reader', 'Reads', 'Records behind', 'Shards (position)'].map((title) => h('th', { scope: 'col' }, title)))),
        h(
          'tbody',
          {},
          status.lag.map((reader) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, reader.name),
              h('td', {}, reader.source === 'kinesis' ? 'Kinesis stream' : 'DynamoDB stream'),
              h('td', { class: 'num' }, reader.error ? h('span', { class: 'error-text' }, reader.error) : `${reader.recordsBehind}${reader.capped ? '+' : ''}`),
              h(
                'td',
                {},
                reader.shards.map((shard) => h('div', {}, h('code', {}, shard.shardId.slice(-12)), ' ', shard.finished ? 'finished' : shard.position ? `…${shard.position.slice(-10)}` : 'not started', shard.recordsBehind ? ` (${shard.recordsBehind} behind)` : '')),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

/** The canary's last run, hop by hop (local/canary: the same run as the canary Lambda on AWS). */
function canarySection(canary) {
  const heading = h('h2', { id: 'canary-heading' }, 'Canary');
  if (!canary) return h('section', { class: 'card', 'aria-labelledby': 'canary-heading' }, heading, h('p', { class: 'muted' }, 'The canary component has not reported yet.'));
  const setting =
    canary.intervalSeconds === 0
      ? 'Off (npm start -- --canary-interval 60 turns it on).'
      : `A probe cart through every hop every ${canary.intervalSeconds} s${canary.running ? '; a run is in progress' : canary.nextRunAt ? `; next run at ${time(canary.nextRunAt)}` : ''}.`;
  const run = canary.lastRun;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'canary-heading', 'data-canary': run ? (run.ok ? 'ok' : 'fail') : 'none' },
    heading,
    h('p', { class: 'muted' }, setting),
    run
      ? h(
          'div',
          {},
          h(
            'p',
            { class: 'canary-summary' },
            badge(run.ok ? 'every hop ok' : `FAIL ${run.hops.filter((hop) => !hop.ok).map((hop) => hop.hop).join(', ')}`, run.ok ? 'ok' : 'error'),
            ` Last run finished ${dateTime(run.finishedAt)} (${(run.ms / 1000).toFixed(1)} s), probe cart `,
            h('code', {}, run.cartId ?? 'not opened'),
          ),
          h(
            'table',
            { 'aria-label': 'Canary hops' },
            h('thead', {}, h('tr', {}, ['Hop', 'Result', 'ms', 'Detail'].map((title) => h('th', { scope: 'col' }, title)))),
            h(
              'tbody',
              {},
              run.hops.map((hop) =>
                h(
                  'tr',
                  { 'data-hop': hop.hop },
                  h('th', { scope: 'row' }, hop.hop),
                  h('td', {}, badge(hop.ok ? 'ok' : 'FAIL', hop.ok ? 'ok' : 'error')),
                  h('td', { class: 'num' }, String(hop.ms)),
                  h('td', {}, hop.detail, ...(hop.likelyCauses ?? []).map((cause) => h('div', { class: 'muted' }, `likely: ${cause}`))),
                ),
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No run has finished yet.'),
  );
}
