# Measures the server's resident memory while four 40 MB photo zips are
# imported at once (issue 12, item 16). Loopback only.
import requests, re, io, zipfile, os, threading, time, random
import openpyxl
BASE = "http://127.0.0.1:18089"  # the server bench/import_memory.sh starts
pid = int(open("bench/.pid").read())
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1]) // 1024
s = requests.Session()
page = s.get(BASE + "/login").text
csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
s.post(BASE + "/login", data={"login": "office", "password": "qinglan-demo", "csrf": csrf, "next": "/"})
page = s.get(BASE + "/account").text
csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
tok = s.post(BASE + "/api/v1/tokens", json={"name": "mem"}, headers={"x-csrf-token": csrf}).json()["secret"]
sites = requests.get(BASE + "/api/v1/sites", headers={"authorization": "Bearer " + tok}).json()
# 40 photos of 1 MB noise each (random bytes as JPEG are not needed: the
# server reads each entry; unneeded ones are never read).
from PIL import Image
def noise(i):
    b = io.BytesIO()
    Image.frombytes("RGB", (700, 500), os.urandom(700*500*3)).save(b, "JPEG", quality=95)
    return b.getvalue()
photos = [noise(i) for i in range(40)]
z = io.BytesIO()
with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as zf:
    for i, p in enumerate(photos):
        zf.writestr(f"区{i%3}/p{i}.jpg", p)
zbytes = z.getvalue()
wb = openpyxl.Workbook(); ws = wb.active
ws.append(["点位", "测评标准", "结果", "照片"])
for i in range(40):
    ws.append([sites[i % len(sites)]["code"], "不存在的标准", "合格", f"区{i%3}/p{i}.jpg"])
xb = io.BytesIO(); wb.save(xb); xbytes = xb.getvalue()
print(f"zip {len(zbytes)//1024//1024} MB, before: {rss()} MB RSS")
peak = [rss()]
done = [False]
def watch():
    while not done[0]:
        peak[0] = max(peak[0], rss()); time.sleep(0.05)
t = threading.Thread(target=watch); t.start()
def one(k):
    r = requests.post(BASE + "/api/v1/rounds/import", headers={"authorization": "Bearer " + tok},
        files={"file": ("r.xlsx", xbytes), "photos": ("p.zip", zbytes)},
        data={"name": f"mem {k}", "starts_on": "2026-11-20", "ends_on": "2026-11-20"})
    print(k, r.status_code, len(r.json().get("unmatched", [])) if r.status_code == 201 else r.text[:200])
ts = [threading.Thread(target=one, args=(k,)) for k in range(4)]
[x.start() for x in ts]; [x.join() for x in ts]
done[0] = True; t.join()
print(f"peak during 4 concurrent imports: {peak[0]} MB RSS; after: {rss()} MB")
