"""A throw-away Dovecot IMAP server on 127.0.0.1 for tests.

`start_dovecot(root)` writes a config under `root` (listen on 127.0.0.1 on free
ports, passwd-file users with plain passwords, maildirs under `root`, no
system files), starts `dovecot -F -c root/dovecot.conf` and waits until it
answers. Optional: an IMAPS listener with a self-signed certificate made with
openssl (`tls=True`), and XOAUTH2 checked against a small token server
(`oauth_tokens`). Run as root, Dovecot's processes take Debian's unprivileged
users (dovenull for logins, dovecot for internals) and the mail belongs to
`nobody`; run as anybody else, everything runs as that user.

Tests create a fresh folder each (`new_folder`) and deliver into it with IMAP
APPEND, so one server serves the whole session.
"""

from __future__ import annotations

import contextlib
import grp
import json
import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from imap_tools import MailBoxUnencrypted

DOVECOT = Path("/usr/sbin/dovecot")
INSTALL_HINT = (
    "Dovecot is not installed (/usr/sbin/dovecot is missing); the mail intake tests run "
    "against a real IMAP server. Install it with: "
    "apt-get install -y --no-install-recommends dovecot-imapd"
)
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Dovecot:
    root: Path
    port: int
    users: dict[str, str]
    process: subprocess.Popen[bytes]
    tls_port: int | None = None
    ca_file: Path | None = None
    oauth_server: ThreadingHTTPServer | None = field(default=None, repr=False)
    host: str = HOST

    # ------------------------------------------------------------------ clients
    @contextlib.contextmanager
    def client(self, user: str = "support") -> Iterator[MailBoxUnencrypted]:
        box = MailBoxUnencrypted(self.host, self.port, timeout=10)
        box.login(user, self.users[user], initial_folder=None)
        try:
            yield box
        finally:
            with contextlib.suppress(Exception):
                box.logout()

    def new_folder(self, prefix: str = "t", user: str = "support") -> str:
        """A new, empty folder with a unique name."""
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        with self.client(user) as box:
            box.folder.create(name)
        return name

    def append(self, folder: str, *messages: bytes, user: str = "support") -> None:
        with self.client(user) as box:
            for raw in messages:
                box.append(raw, folder)

    def flags(self, folder: str, user: str = "support") -> dict[int, set[str]]:
        """Each message's UID and flags, read without changing them."""
        with self.client(user) as box:
            box.folder.set(folder, readonly=True)
            answer = box.client.uid("FETCH", "1:*", "(UID FLAGS)")
        flags: dict[int, set[str]] = {}
        for item in answer[1]:
            line = (item[0] if isinstance(item, tuple) else item or b"").decode()
            if "UID " not in line:
                continue
            uid = int(line.split("UID ", 1)[1].split()[0].rstrip(")"))
            inside = line.split("FLAGS (", 1)[1].split(")", 1)[0] if "FLAGS (" in line else ""
            flags[uid] = set(inside.split())
        return flags

    def recreate(self, folder: str, user: str = "support") -> None:
        """Delete the folder and create it again: same name, new UIDVALIDITY, no mail."""
        with self.client(user) as box:
            box.folder.delete(folder)
            box.folder.create(folder)

    def uidvalidity(self, folder: str, user: str = "support") -> int:
        with self.client(user) as box:
            return int(box.folder.status(folder, ["UIDVALIDITY"])["UIDVALIDITY"])

    # ---------------------------------------------------------------- lifecycle
    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.oauth_server is not None:
            self.oauth_server.shutdown()
            self.oauth_server.server_close()

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def start_dovecot(
    root: Path,
    *,
    users: Mapping[str, str] | None = None,
    tls: bool = False,
    oauth_tokens: Mapping[str, str] | None = None,
) -> Dovecot:
    """Start Dovecot with a config under `root` (which must be empty or missing).

    `users`: login → plain password. `oauth_tokens`: access token → the login it
    is valid for (XOAUTH2 is then offered).
    """
    if not DOVECOT.exists():
        raise FileNotFoundError(INSTALL_HINT)
    users = dict(users or {"support": "support-secret", "sales": "sales-secret"})
    root.mkdir(parents=True, exist_ok=True)
    # Dovecot's unprivileged processes read the users file and the mail under it.
    root.parent.chmod(root.parent.stat().st_mode | 0o755)
    root.chmod(0o755)
    home = root / "home"
    home.mkdir()
    port = free_port()
    if os.geteuid() == 0:
        login_user, internal_user, mail_user = "dovenull", "dovecot", "nobody"
        mail_group = grp.getgrgid(pwd.getpwnam(mail_user).pw_gid).gr_name
        os.chown(home, pwd.getpwnam(mail_user).pw_uid, pwd.getpwnam(mail_user).pw_gid)
        rootless = ""
    else:
        me = pwd.getpwuid(os.geteuid())
        login_user = internal_user = mail_user = me.pw_name
        mail_group = grp.getgrgid(me.pw_gid).gr_name
        # Without root: no chroot for the login process, no user switches.
        rootless = (
            "service imap-login {\n  chroot =\n}\n"
            "service auth {\n  user = $default_internal_user\n}\n"
        )
    (root / "users").write_text(
        "".join(f"{name}:{{PLAIN}}{password}::::::\n" for name, password in users.items())
    )
    listeners = f"  inet_listener imap {{\n    address = {HOST}\n    port = {port}\n  }}\n"
    tls_port: int | None = None
    ca_file: Path | None = None
    ssl_lines = "ssl = no\n"
    if tls:
        tls_port = free_port()
        ca_file = _self_signed(root)
        listeners += (
            f"  inet_listener imaps {{\n    address = {HOST}\n    port = {tls_port}\n"
            "    ssl = yes\n  }\n"
        )
        ssl_lines = f"ssl = yes\nssl_cert = <{root}/cert.pem\nssl_key = <{root}/key.pem\n"
    else:
        listeners += "  inet_listener imaps {\n    port = 0\n  }\n"
    oauth_server: ThreadingHTTPServer | None = None
    mechanisms = "plain login"
    oauth_passdb = ""
    if oauth_tokens:
        oauth_server = _token_server(dict(oauth_tokens))
        mechanisms += " xoauth2 oauthbearer"
        token_url = f"http://{HOST}:{oauth_server.server_address[1]}/tokeninfo?access_token="
        (root / "oauth2.conf.ext").write_text(
            f"tokeninfo_url = {token_url}\nusername_attribute = username\n"
        )
        oauth_passdb = (
            "passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
            f"  args = {root}/oauth2.conf.ext\n}}\n"
        )
    password_passdb = (
        "passdb {\n  driver = passwd-file\n"
        + ("  mechanisms = plain login\n" if oauth_tokens else "")
        + f"  args = scheme=PLAIN username_format=%u {root}/users\n}}\n"
    )
    config = (
        f"base_dir = {root}/run\n"
        f"state_dir = {root}/state\n"
        f"log_path = {root}/dovecot.log\n"
        "protocols = imap\n"
        f"listen = {HOST}\n" + ssl_lines + "disable_plaintext_auth = no\n"
        # A refused login answers at once (the default waits 2 s, against guessing).
        "auth_failure_delay = 0\n"
        f"auth_mechanisms = {mechanisms}\n"
        f"default_login_user = {login_user}\n"
        f"default_internal_user = {internal_user}\n"
        f"default_internal_group = {mail_group}\n"
        "first_valid_uid = 1\n"
        "first_valid_gid = 1\n"
        "mail_location = maildir:~/Maildir\n"
        + password_passdb
        + oauth_passdb
        + "userdb {\n  driver = static\n"
        f"  args = uid={mail_user} gid={mail_group} home={home}/%u\n}}\n"
        f"service imap-login {{\n{listeners}}}\n"
        "service stats {\n  unix_listener stats-writer {\n    mode = 0666\n  }\n}\n" + rootless
    )
    (root / "dovecot.conf").write_text(config)
    process = subprocess.Popen(
        [str(DOVECOT), "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=(root / "dovecot.stderr").open("wb"),
    )
    server = Dovecot(
        root=root,
        port=port,
        users=users,
        process=process,
        tls_port=tls_port,
        ca_file=ca_file,
        oauth_server=oauth_server,
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=1) as probe:
                if probe.recv(64).startswith(b"* OK"):
                    return server
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            stderr = (root / "dovecot.stderr").read_text(errors="replace")
            raise RuntimeError(f"Dovecot did not start:\n{stderr}\n{server.log()}")
        time.sleep(0.05)


def _self_signed(root: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 and localhost; its path (also the CA)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise FileNotFoundError("openssl is needed for the IMAPS test server")
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(root / "key.pem"),
            "-out",
            str(root / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    (root / "key.pem").chmod(0o600)
    return root / "cert.pem"


def _token_server(tokens: dict[str, str]) -> ThreadingHTTPServer:
    """An OAuth2 token-info endpoint: 200 {"username": …} for a known token, else 401."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            token = parse_qs(urlparse(self.path).query).get("access_token", [""])[0]
            user = tokens.get(token)
            body = json.dumps({"username": user} if user else {"error": "invalid_token"})
            self.send_response(200 if user else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer((HOST, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
