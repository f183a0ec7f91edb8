# Run inside a lab container by benchmarks/raw_deploy.sh (python3 -): wait until /healthz answers 200.
import ssl
import time
import urllib.request

context = ssl._create_unverified_context()
for _ in range(600):
    try:
        if urllib.request.urlopen("https://127.0.0.1:8222/healthz", timeout=2, context=context).status == 200:
            break
    except Exception:  # noqa: BLE001 - not up yet
        pass
    time.sleep(0.1)
else:
    raise SystemExit("not healthy")
