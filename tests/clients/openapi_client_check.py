"""Generates a typed Python client from chatgate's served OpenAPI document with openapi-python-client, as an
integrator would, requires that every operation was generated (the generator drops, with a warning, any it
cannot type), then calls three through the generated code: /oauth/token (client_secret_basic), then with
the token getchatchannels and sendmessage. Run by tests/api/json.rs:
    python3 openapi_client_check.py BASE_URL USER PASSWORD PLATFORMID WORKDIR"""
import base64
import importlib
import json
import subprocess
import sys
import urllib.request

base, user, pw, pid, work = sys.argv[1:6]
doc = json.load(urllib.request.urlopen(base + "/openapi.json"))
with open(f"{work}/openapi.json", "w") as f:
    json.dump(doc, f)
gen = subprocess.run(["openapi-python-client", "generate", "--path", f"{work}/openapi.json", "--meta", "none",
                      "--output-path", f"{work}/chatgate_client"], capture_output=True, text=True)
assert gen.returncode == 0, gen.stdout + gen.stderr
assert "Warning" not in gen.stdout and "WARNING" not in gen.stdout, gen.stdout

operations = {op["operationId"] for item in doc["paths"].values() for op in item.values() if isinstance(op, dict)}
sys.path.insert(0, work)
modules = set()
for tag in ("json", "plain", "basic", "oauth", "feedbot", "cam"):
    pkg = importlib.import_module(f"chatgate_client.api.{tag}")
    import pkgutil
    modules |= {m.name for m in pkgutil.iter_modules(pkg.__path__)}
assert operations == modules, (sorted(operations - modules), sorted(modules - operations))

from chatgate_client import AuthenticatedClient
from chatgate_client.api.json import getchatchannels, sendmessage
from chatgate_client.api.oauth import token
from chatgate_client.models import GetChatChannelsRequest, Platform, SendMessageRequest, TokenForm

basic = AuthenticatedClient(base_url=base, token=base64.b64encode(f"{user}:{pw}".encode()).decode(), prefix="Basic")
issued = token.sync(client=basic, body=TokenForm(grant_type="client_credentials"))
assert issued.__class__.__name__ == "TokenResponse", issued
api = AuthenticatedClient(base_url=base, token=issued.access_token)
channels = getchatchannels.sync(client=api, body=GetChatChannelsRequest())
assert channels.status == "SUCCESS" and pid in [c.platformid for c in channels.result.list_], channels
sent = sendmessage.sync(client=api, body=SendMessageRequest(platform=Platform.WEBCHAT, platformid=pid,
                                                            destination="generated", message="from generated code"))
assert sent.status == "SUCCESS" and sent.result.messageid, sent
print(f"openapi-python-client: {len(operations)} operations generated; token, getchatchannels, sendmessage OK")
