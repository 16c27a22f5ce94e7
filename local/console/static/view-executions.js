import { announce, api, badge, dateTime, errorBox, every, h, header, json } from './ui.js';

const STATUS_KIND = { RUNNING: 'running', SUCCEEDED: 'ok', FAILED: 'error', TIMED_OUT: 'error', ABORTED: 'warn' };

/**
 * Replay and backfill: start one with the CLI's flags (the server turns them into the input exactly as
 * `npm run replay|backfill` does), follow its Map Run live, and the history with outputs and failures.
 */
export const executionsView = {
  title: 'Replay & backfill',
  render(main) {
    const follow = h('section', { class: 'card follow', 'aria-labelledby': 'follow-heading' }, h('h2', { id: 'follow-heading' }, 'Current run'), h('p', { class: 'muted' }, 'Start a replay or a backfill to follow it here.'));
    const followStatus = h('div', { id: 'execution-status', role: 'status', 'aria-live': 'polite', class: 'visually-hidden' });
    const history = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
    main.append(
      header('Replay & backfill', 'The same state machines and inputs as npm run replay and npm run backfill (flags in brackets).'),
      h('div', { class: 'columns' }, replayForm(start), backfillForm(start)),
      follow,
      followStatus,
      h('section', { 'aria-labelledby': 'history-heading' }, h('h2', { id: 'history-heading' }, 'History'), history),
    );

    let followed;
    let lastStatus;
    async function start(machine, flags, form) {
      const problem = form.querySelector('.form-error');
      problem.textContent = '';
      try {
        const { executionArn, name } = await api('/executions', { method: 'POST', body: JSON.stringify({ machine, flags }) });
        followed = executionArn;
        lastStatus = undefined;
        announce(`${machine} ${name} started`);
        await refresh();
      } catch (error) {
        problem.textContent = error.message;
      }
    }

    /** RedriveExecution of a failed run, as `cdc-cart replay --redrive ARN`; the answer (or refusal) is shown as is. */
    async function redrive(execution, problem) {
      problem.textContent = '';
      try {
        await api(`/executions/${encodeURIComponent(execution.executionArn)}/redrive`, { method: 'POST' });
        followed = execution.executionArn;
        lastStatus = undefined;
        announce(`${execution.machine} ${execution.name} redriven`);
        await refresh();
      } catch (error) {
        problem.textContent = error.message;
      }
    }

    /** Follows a run of the history above (a failed one shows its redrive button there). */
    async function select(execution) {
      followed = execution.executionArn;
      lastStatus = undefined;
      await refresh();
      follow.scrollIntoView?.();
    }

    async function refresh() {
      try {
        // The followed execution is read before the history, so the history is never older than it: the two never
        // disagree on screen (a run shown succeeded above and still running below).
        let execution = followed ? await api(`/executions/${encodeURIComponent(followed)}`) : undefined;
        const { executions } = await api('/executions');
        history.replaceChildren(renderHistory(executions, select));
        if (!followed && executions[0]?.status === 'RUNNING') {
          followed = executions[0].executionArn;
          execution = await api(`/executions/${encodeURIComponent(followed)}`);
        }
        if (execution) {
          follow.replaceChildren(renderFollowed(execution, redrive));
          if (execution.status !== lastStatus) {
            lastStatus = execution.status;
            followStatus.textContent = `${execution.machine} ${execution.name}: ${execution.status.toLowerCase()}`;
          }
        }
      } catch (error) {
        history.replaceChildren(errorBox(error));
      }
    }
    return every(1_000, refresh);
  },
};

function replayForm(start) {
  const form = h(
    'form',
    { class: 'card run-form', 'aria-labelledby': 'replay-heading' },
    h('h2', { id: 'replay-heading' }, 'Replay'),
    h('fieldset', {}, h('legend', {}, 'Target [--target]'), radio('target', 'projections', 'read models (projections)', true), radio('target', 'stream', 'the stream (flagged replayed)')),
    field('replay-from', 'From, ISO-8601 [--from]', h('input', { id: 'replay-from', name: 'from', placeholder: 'whole archive', autocomplete: 'off' })),
    field('replay-to', 'To, ISO-8601 [--to]', h('input', { id: 'replay-to', name: 'to', placeholder: 'whole archive', autocomplete: 'off' })),
    field('replay-projections', 'Projections [--projections]', h('input', { id: 'replay-projections', name: 'projections', placeholder: 'all: cart-summary,item-popularity', autocomplete: 'off' })),
    h(
      'div',
      { class: 'field-row' },
      field('replay-max-bad-lines', 'Max bad lines [--max-bad-lines]', h('input', { id: 'replay-max-bad-lines', name: 'max-bad-lines', inputmode: 'numeric', placeholder: 'no limit', autocomplete: 'off' })),
      field('replay-max-bad-percent', 'Max bad lines, % [--max-bad-lines-percent]', h('input', { id: 'replay-max-bad-percent', name: 'max-bad-lines-percent', inputmode: 'decimal', placeholder: 'no limit', autocomplete: 'off' })),
    ),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'rebuild' }), ' Rebuild: a new generation beside the live one, then switch readers over [--rebuild]'),
    field('replay-retire-after', 'With rebuild: retire the old generation after, seconds [--retire-after]', h('input', { id: 'replay-retire-after', name: 'retire-after', inputmode: 'numeric', placeholder: '300', autocomplete: 'off' })),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'dry-run' }), ' Dry run [--dry-run]'),
    h('p', { class: 'form-error', role: 'alert' }),
    h('button', { type: 'submit', class: 'primary' }, 'Start replay'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const text = (name) => (data.get(name) ?? '').toString().trim() || undefined;
    start(
      'replay',
      {
        target: text('target'),
        from: text('from'),
        to: text('to'),
        projections: text('projections'),
        'max-bad-lines': text('max-bad-lines'),
        'max-bad-lines-percent': text('max-bad-lines-percent'),
        rebuild: data.has('rebuild'),
        'retire-after': text('retire-after'),
        'dry-run': data.has('dry-run'),
      },
      form,
    );
  });
  return form;
}

function backfillForm(start) {
  const form = h(
    'form',
    { class: 'card run-form', 'aria-labelledby': 'backfill-heading' },
    h('h2', { id: 'backfill-heading' }, 'Backfill'),
    h('p', { class: 'muted' }, 'Archives every stored event the archive lacks. Running it again adds nothing.'),
    field('backfill-segments', 'Scan segments, 1-64 [--segments]', h('input', { id: 'backfill-segments', name: 'segments', inputmode: 'numeric', placeholder: '4', autocomplete: 'off' })),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'dry-run' }), ' Dry run: count only [--dry-run]'),
    h('p', { class: 'form-error', role: 'alert' }),
    h('button', { type: 'submit', class: 'primary' }, 'Start backfill'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const segments = (data.get('segments') ?? '').toString().trim();
    start('backfill', { ...(segments ? { segments } : {}), 'dry-run': data.has('dry-run') }, form);
  });
  return form;
}

function field(id, label, input) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), input);
}

function radio(name, value, label, checked = false) {
  return h('label', { class: 'check' }, h('input', { type: 'radio', name, value, checked }), ` ${label}`);
}

/** A failed, timed-out or aborted run can be redriven; the button says why not when the endpoint has said so. */
function redriveControl(execution, redrive) {
  if (!['FAILED', 'TIMED_OUT', 'ABORTED'].includes(execution.status)) return null;
  const problem = h('p', { class: 'form-error', role: 'alert', id: 'redrive-problem' }, execution.redrive?.status === 'NOT_REDRIVABLE' ? execution.redrive.reason ?? '' : '');
  const button = h('button', { type: 'button', id: 'redrive-execution', onclick: () => redrive(execution, problem) }, 'Redrive this run [--redrive]');
  return h('div', { class: 'redrive' }, button, problem);
}

function renderFollowed(execution, redrive) {
  const run = execution.mapRun;
  const done = run ? run.succeeded + run.failed : 0;
  const unit = execution.machine === 'replay' ? 'archive objects' : 'segments';
  return h(
    'div',
    {},
    h('h2', { id: 'follow-heading' }, `Current run: ${execution.machine} `, h('code', {}, execution.name), ' ', badge(execution.status, STATUS_KIND[execution.status] ?? 'warn')),
    execution.phase ? h('p', { class: 'phase', id: 'run-phase' }, 'Phase: ', h('strong', {}, execution.phase)) : null,
    run
      ? h(
          'div',
          { class: 'progress' },
          h('label', { for: 'map-run-progress' }, `Map Run: ${done} of ${run.total} ${unit} done${run.failed ? `, ${run.failed} failed` : ''}${run.running ? `, ${run.running} running` : ''}`),
          h('progress', { id: 'map-run-progress', max: Math.max(run.total, 1), value: done }),
        )
      : h('p', { class: 'muted' }, execution.status === 'RUNNING' ? 'Planning…' : 'No Map Run (the plan stopped the run, or there was nothing to do).'),
    execution.notes ? h('ul', { class: 'notes', id: 'run-notes' }, execution.notes.map((note) => h('li', {}, note))) : null,
    execution.output !== undefined ? h('div', {}, h('h3', {}, 'Output'), outputTable(execution.output)) : null,
    execution.error ? h('div', { class: 'failure' }, h('h3', {}, 'Failure'), h('p', {}, h('strong', {}, execution.error)), h('pre', {}, typeof execution.cause === 'string' ? execution.cause : json(execution.cause))) : null,
    redrive ? redriveControl(execution, redrive) : null,
  );
}

function outputTable(output) {
  if (typeof output !== 'object' || output === null) return h('pre', {}, json(output));
  return h('dl', { class: 'facts output' }, Object.entries(output).flatMap(([key, value]) => [h('dt', {}, key), h('dd', {}, typeof value === 'object' ? h('code', {}, JSON.stringify(value)) : String(value))]));
}

function renderHistory(executions, select) {
  if (executions.length === 0) return h('p', { class: 'empty' }, 'No replay or backfill has run on this stack yet.');
  return h(
    'table',
    { class: 'history' },
    h('caption', { class: 'visually-hidden' }, 'Executions, newest first'),
    h('thead', {}, h('tr', {}, ['Started', 'Machine', 'Name', 'Status', 'Duration', 'Map Run', 'Output or failure'].map((title) => h('th', { scope: 'col' }, title)))),
    h(
      'tbody',
      {},
      executions.map((execution) =>
        h(
          'tr',
          {},
          h('td', {}, dateTime(execution.startDate)),
          h('td', {}, execution.machine),
          h('td', {}, h('code', {}, execution.name)),
          h('td', {}, badge(execution.status, STATUS_KIND[execution.status] ?? 'warn'), ['FAILED', 'TIMED_OUT', 'ABORTED'].includes(execution.status) ? h('button', { type: 'button', class: 'link', onclick: () => select(execution) }, 'redrive…') : null),
          h('td', { class: 'num' }, execution.stopDate ? `${((Date.parse(execution.stopDate) - Date.parse(execution.startDate)) / 1000).toFixed(1)} s` : '…'),
          h('td', { class: 'num' }, execution.mapRun ? `${execution.mapRun.succeeded}/${execution.mapRun.total}${execution.mapRun.failed ? ` (${execution.mapRun.failed} failed)` : ''}` : '—'),
          h(
            'td',
            {},
            execution.error
              ? h('details', {}, h('summary', {}, h('span', { class: 'error-text' }, execution.error)), h('pre', {}, typeof execution.cause === 'string' ? execution.cause : json(execution.cause)))
              : execution.output !== undefined
                ? h('details', {}, h('summary', {}, summary(execution.output)), h('pre', {}, json({ input: execution.input, output: execution.output })))
                : '',
          ),
        ),
      ),
    ),
  );
}

function summary(output) {
  if (typeof output !== 'object' || output === null) return String(output);
  const picks = ['eventsRead', 'applied', 'published', 'objects', 'missing', 'written'].filter((key) => typeof output[key] === 'number').map((key) => `${key} ${output[key]}`);
  return picks.length ? picks.join(', ') : 'output';
}
