// What a user would write instead: one thread, Hono, the snapshot as plain objects, JSON.stringify and
// filtering per request (argv: port, snapshot JSON file = a /state response).
import { readFileSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const [port, file] = process.argv.slice(2);
const data = JSON.parse(readFileSync(file!, 'utf8')).data;
const app = new Hono();
app.get('/api/v2/runtime/state', (c) => {
  const q = c.req.query();
  const apps = Object.fromEntries(Object.entries(data.app_states as Record<string, any>).filter(([, a]) =>
    (!q.user_id || a.user_id === q.user_id) && (!q.source_id || a.source_id === q.source_id) && (!q.app_name || a.app_name === q.app_name)));
  const tasks = Object.fromEntries(Object.entries(data.tasks as Record<string, any>).filter(([, t]) =>
    (!q.user_id || t.user_id === q.user_id) && (!q.task_status || t.status === q.task_status) && (!q.task_type || t.type === q.task_type)));
  const values = Object.values(tasks) as any[];
  const summary = {
    ...data.summary,
    total_apps: Object.keys(apps).length, total_tasks: values.length,
    pending_tasks: values.filter((t) => t.status === 'pending').length,
    running_tasks: values.filter((t) => t.status === 'running').length,
  };
  return c.json({ success: true, message: 'Runtime state retrieved successfully', data: { ...data, app_states: apps, tasks, summary } });
});
app.get('/api/v2/runtime/tasks/:id', (c) => c.json({ success: true, message: 'success', data: data.tasks[c.req.param('id')] ?? null }));
serve({ fetch: app.fetch, port: Number(port), hostname: '127.0.0.1' }, () => process.stdout.write('ready\n'));
