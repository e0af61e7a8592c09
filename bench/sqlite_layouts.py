#!/usr/bin/env python3
"""How the SQLite table layout was chosen (issue 11): file bytes / (key + value + metadata
bytes) after a VACUUM-free bulk import, per value size, for candidate layouts.

    python3 bench/sqlite_layouts.py LAYOUT:PAGE_SIZE:ORDER:INLINE_LIMIT ...
    python3 bench/sqlite_layouts.py old:4096:random:0 split:16384:random:128

LAYOUT: old (version 1: one WITHOUT ROWID table), rowid (rowid table + unique index),
split (version 2: WITHOUT ROWID key index, values over INLINE_LIMIT bytes in a rowid table).
ORDER: seq or random insertion order. SIZES=10,100,... overrides the value sizes. Entries:
10,000 per size up to 20 KB, 1,000 of 100 KB, 100 of 1 MB (the ratio is per entry).
Uses Python's sqlite3 (the system libsqlite3, as luat does); files in /tmp/layout.
"""
import sqlite3, os, sys, random, hashlib
SIZES=[int(x) for x in os.environ.get("SIZES","10,100,500,1000,2000,3000,5000,20000,100000,1000000").split(",")]
def count(sz): return 10000 if sz<=20000 else (1000 if sz==100000 else 100)
LAYOUTS={
 'old': ["""CREATE TABLE entries(namespace INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, expiration INTEGER, metadata BLOB, PRIMARY KEY(namespace,key)) WITHOUT ROWID""",
         "INSERT INTO entries VALUES(1,?,?,?,?)"],
 'rowid': ["""CREATE TABLE entries(id INTEGER PRIMARY KEY, namespace INTEGER NOT NULL, key BLOB NOT NULL, expiration INTEGER, metadata BLOB, value BLOB NOT NULL); CREATE UNIQUE INDEX entries_key ON entries(namespace,key)""",
         "INSERT INTO entries(namespace,key,value,expiration,metadata) VALUES(1,?,?,?,?)"],
 'split': ["""CREATE TABLE entries(namespace INTEGER NOT NULL, key BLOB NOT NULL, expiration INTEGER, metadata BLOB, value BLOB, value_id INTEGER, PRIMARY KEY(namespace,key)) WITHOUT ROWID; CREATE TABLE vals(id INTEGER PRIMARY KEY, value BLOB NOT NULL)""", None],
}
def run(layout, page, sz, order, thresh):
    os.makedirs('/tmp/layout', exist_ok=True); path='/tmp/layout/m.db'
    for s in ('','-wal','-shm'):
        try: os.remove(path+s)
        except FileNotFoundError: pass
    db=sqlite3.connect(path, isolation_level=None)
    db.execute(f'PRAGMA page_size={page}')
    db.execute('PRAGMA journal_mode=WAL'); db.execute('PRAGMA synchronous=NORMAL')
    ddl,ins=LAYOUTS[layout]; db.executescript(ddl)
    n=count(sz); idx=list(range(n))
    if order=='random': random.Random(1).shuffle(idx)
    data=0; val=os.urandom(sz)
    db.execute('BEGIN')
    for j,i in enumerate(idx):
        key=(f'user/{i:08d}/'+hashlib.sha1(str(i).encode()).hexdigest()*2)[:100].encode()
        meta=b'{"type":"doc","n":%d}'%i
        data+=len(key)+sz+len(meta)
        if layout=='split':
            if sz<=thresh: db.execute('INSERT INTO entries VALUES(1,?,NULL,?,?,NULL)',(key,meta,val))
            else:
                c=db.execute('INSERT INTO vals(value) VALUES(?)',(val,))
                db.execute('INSERT INTO entries VALUES(1,?,NULL,?,NULL,?)',(key,meta,c.lastrowid))
        else: db.execute(ins,(key,val,None,meta))
        if j%1000==999: db.execute('COMMIT'); db.execute('BEGIN')
    db.execute('COMMIT'); db.execute('PRAGMA wal_checkpoint(TRUNCATE)'); db.close()
    return os.path.getsize(path)/data
cfgs=[a.split(':') for a in sys.argv[1:]]
print('layout page order thresh | '+' '.join(f'{s:>7}' for s in SIZES))
for layout,page,order,thresh in cfgs:
    r=[run(layout,int(page),s,order,int(thresh)) for s in SIZES]
    print(f'{layout} {page} {order} {thresh} | '+' '.join(f'{x:7.2f}' for x in r), flush=True)
