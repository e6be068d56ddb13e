// Promise-heavy async code: each operation awaits four concurrent `loadItem` calls, each of
// which awaits two more promises.

interface RecordRow {
  id: number;
  score: number;
}

async function fetchRecord(id: number): Promise<RecordRow> {
  await null;
  return { id, score: (id * 2654435761) % 1000 };
}

export async function loadItem(id: number): Promise<number> {
  const rec = await fetchRecord(id);
  const bonus = await Promise.resolve(rec.score > 500 ? 10 : 0);
  return rec.score + bonus;
}

export async function op(i: number): Promise<number> {
  const all = await Promise.all([loadItem(i), loadItem(i + 1), loadItem(i + 2), loadItem(i + 3)]);
  let s = 0;
  for (const v of all) s += v;
  return s;
}
