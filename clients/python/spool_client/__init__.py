"""A client for the Spool message-queue broker, standard library only (Python 3.9+).

One :class:`Client` holds a keep-alive connection, signs in (again on a 401 when it holds credentials), retries
with backoff on 429 (honouring ``Retry-After``), 503 and connection errors, and gives every retried push an
idempotency key so that a retry never stores a message twice. Errors are :class:`SpoolError` carrying the
problem's ``code``, ``status`` and ``detail``.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
import urllib.parse
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence

__all__ = ["Client", "SpoolError", "LeaseLost", "Message", "Lease", "Transaction", "Result", "ROLES"]

#: Roles and their integers, as ``/login`` returns them.
ROLES = {"BASIC": 0, "ADMINISTRATOR": 1, "SECRETARY": 2, "AGENT": 3}


class SpoolError(Exception):
    """A request the broker refused (its problem+json), or one that could not reach it (``status`` 0)."""

    def __init__(self, status: int, code: str, detail: str, retry_after: Optional[float] = None) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.retry_after = retry_after


class LeaseLost(SpoolError):
    """An automatic renewal of a lease was refused: the lease expired (or the broker refused the renewal), so the
    message may be delivered to another worker. Raised by the lease's ``ack()`` (and so by ``with lease:``) when the
    ack is refused too, and by ``check()``."""

    def __init__(self, lease: str, detail: str, status: int = 200) -> None:
        super().__init__(status, "LEASE_LOST", f"lease {lease}: {detail}")
        self.lease = lease


@dataclass
class Message:
    """A message pulled for good."""

    id: int
    body: Any
    metadata: Dict[str, Any] = field(default_factory=dict)


class Lease:
    """A leased message. As a context manager it acks on success and nacks if the block raises."""

    def __init__(self, client: "Client", queue: str, raw: Dict[str, Any],
                 subscription: Optional[str] = None) -> None:
        self.client = client
        self.queue = queue
        #: The named subscription it was leased through (None: the queue's own).
        self.subscription = subscription
        self.id: int = raw["id"]
        self.lease: str = raw["lease"]
        self.delivery: int = raw["delivery"]
        self.body: Any = raw["body"]
        self.metadata: Dict[str, Any] = raw.get("metadata", {})
        self.settled = False
        self._renewer: Optional[threading.Thread] = None
        self._stop = threading.Event()
        #: Why an automatic renewal failed, if one did (see ``auto_renew``).
        self.renewal_error: Optional[LeaseLost] = None

    def ack(self) -> bool:
        """Acknowledges the message; False if the lease had expired or was unknown. Raises ``LeaseLost`` instead
        when an automatic renewal was refused before and the ack is refused too."""
        self._end()
        acked = self.client.ack(self.queue, [self.lease], subscription=self.subscription)["acked"] == 1
        if not acked and self.renewal_error is not None:
            raise self.renewal_error
        return acked

    def check(self) -> None:
        """Raises ``LeaseLost`` if an automatic renewal of this lease was refused (call it between steps of a long
        job to stop work another worker may now be doing)."""
        if self.renewal_error is not None:
            raise self.renewal_error

    def nack(self, delay_seconds: int = 0) -> bool:
        """Releases the message for redelivery (after ``delay_seconds``)."""
        self._end()
        return self.client.nack(self.queue, [self.lease], delay_seconds,
                                subscription=self.subscription)["released"] == 1

    def renew(self, visibility_seconds: int) -> bool:
        """Extends the lease by ``visibility_seconds`` from now."""
        return self.client.renew(self.queue, [self.lease], visibility_seconds,
                                 subscription=self.subscription)["renewed"] == 1

    def auto_renew(self, visibility_seconds: int, every_seconds: float,
                   on_error: Optional[Callable[[LeaseLost], None]] = None) -> "Lease":
        """Renews the lease every ``every_seconds`` until it is acked or nacked (for long jobs). A renewal the
        broker refuses (the lease expired, or the request is refused) stops the renewals and is not silent: it is
        kept in ``renewal_error``, passed to ``on_error``, raised by ``check()`` and by an ``ack()`` that is refused.
        A renewal that cannot reach the broker is tried again while the lease may still be live."""
        def run() -> None:
            renewed_at = time.monotonic()
            while not self._stop.wait(every_seconds):
                try:
                    if self.renew(visibility_seconds):
                        renewed_at = time.monotonic()
                        continue
                    lost = LeaseLost(self.lease, "the renewal was refused: the lease had expired or was settled")
                except SpoolError as e:
                    if e.status in (0, 502, 503, 504) and time.monotonic() - renewed_at < visibility_seconds:
                        continue  # the broker was out of reach; the lease may still be live
                    lost = LeaseLost(self.lease, f"the renewal failed: {e}", e.status)
                if self._stop.is_set():
                    return  # settled meanwhile: nothing was lost
                self.renewal_error = lost
                if on_error is not None:
                    on_error(lost)
                return
        self._renewer = threading.Thread(target=run, daemon=True)
        self._renewer.start()
        return self

    def _end(self) -> None:
        self.settled = True
        self._stop.set()

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.settled:
            return
        if exc_type is None:
            self.ack()
        else:
            self.nack()


@dataclass
class Transaction:
    """The seed's transaction model, as a ``transaction`` queue validates it."""

    transaction_id: str
    user_id: int
    username: str
    role: int
    status: int
    vendor_id: str
    amount: float

    def body(self) -> Dict[str, Any]:
        return {"transaction_id": self.transaction_id,
                "customer": {"user_id": self.user_id, "username": self.username, "role": self.role},
                "status": self.status, "vendor_id": self.vendor_id, "amount": self.amount}


@dataclass
class Result:
    """The seed's prediction result, as a ``result`` queue validates it."""

    result_id: str
    transaction_id: str
    timestamp: str
    is_fraudulent: bool
    confidence: float

    def body(self) -> Dict[str, Any]:
        return asdict(self)


def _body(message: Any) -> Any:
    return message.body() if hasattr(message, "body") and callable(message.body) else message


class Client:
    """A connection to one broker. Thread-safe: one request at a time per client (use one client per thread
    for parallel work)."""

    def __init__(self, url: str = "http://127.0.0.1:7500", *, user: Optional[str] = None,
                 password: Optional[str] = None, token: Optional[str] = None, timeout: float = 30.0,
                 ca_file: Optional[str] = None, retries: int = 5, backoff: float = 0.2) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https"):
            raise ValueError(f"url must be http:// or https://, was {url!r}")
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname or "127.0.0.1"
        self._port = parsed.port or (443 if self._https else 80)
        self._timeout = timeout
        self._context = ssl.create_default_context(cafile=ca_file) if self._https else None
        self._user, self._password, self.token = user, password, token
        self.retries, self.backoff = retries, backoff
        self._conn: Optional[http.client.HTTPConnection] = None
        self._lock = threading.RLock()
        self.role: Optional[int] = None

    # ---- plumbing ------------------------------------------------------------------------------------------

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._https:
                self._conn = http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout,
                                                         context=self._context)
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        return self._conn

    def _once(self, method: str, path: str, body: Optional[bytes], headers: Dict[str, str]):
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if r.getheader("Connection", "").lower() == "close":
            self.close()
        return r.status, r.getheader("Content-Type", ""), r.getheader("Retry-After"), data

    def request(self, method: str, path: str, payload: Any = None, *, raw: Optional[bytes] = None,
                content_type: str = "application/json", headers: Optional[Dict[str, str]] = None,
                auth: bool = True, retry: bool = True) -> Any:
        """Sends one request (retrying as the class says) and returns the decoded JSON answer."""
        body = raw if raw is not None else (None if payload is None else json.dumps(payload).encode())
        attempt = 0
        relogged = False
        while True:
            h = dict(headers or {})
            if body is not None:
                h["Content-Type"] = content_type
            if auth:
                if self.token is None:
                    self.login()
                h["Authorization"] = "Bearer " + str(self.token)
            with self._lock:
                try:
                    status, ctype, retry_after, data = self._once(method, path, body, h)
                except (OSError, http.client.HTTPException) as e:
                    if retry and attempt < self.retries:
                        attempt += 1
                        time.sleep(self.backoff * 2 ** (attempt - 1))
                        continue
                    raise SpoolError(0, "CONNECTION_FAILED", str(e)) from e
            if 200 <= status < 300:
                return json.loads(data) if data and "json" in ctype else (data.decode() if data else None)
            problem = json.loads(data) if data and "json" in ctype else {}
            error = SpoolError(status, problem.get("code", "HTTP_" + str(status)), problem.get("detail", ""),
                               float(retry_after) if retry_after else None)
            if status == 401 and auth and not relogged and self._password is not None:
                self.token = None  # expired or revoked: sign in again, once
                relogged = True
                continue
            if status in (429, 503) and retry and attempt < self.retries:
                attempt += 1
                time.sleep(error.retry_after if error.retry_after else self.backoff * 2 ** (attempt - 1))
                continue
            raise error

    @staticmethod
    def _q(name: str) -> str:
        return urllib.parse.quote(name, safe="")

    @classmethod
    def _from(cls, queue: str, subscription: Optional[str]) -> str:
        """The path a queue is consumed at: its own routes, or a named subscription's."""
        base = "/queues/" + cls._q(queue)
        return base if subscription is None else base + "/subscriptions/" + cls._q(subscription)

    # ---- auth and users ------------------------------------------------------------------------------------

    def login(self, user: Optional[str] = None, password: Optional[str] = None) -> str:
        """Signs in (with the given or held credentials) and keeps the token."""
        user, password = user or self._user, password or self._password
        if user is None or password is None:
            raise SpoolError(401, "UNAUTHORIZED", "no token and no credentials to sign in with")
        self._user, self._password = user, password
        r = self.request("POST", "/login", {"username": user, "password": password}, auth=False)
        self.token, self.role = r["token"], r["role"]
        return self.token

    def logout(self) -> None:
        self.request("POST", "/logout")
        self.token = None

    def users(self) -> List[Dict[str, Any]]:
        return self.request("GET", "/users")

    def add_user(self, name: str, password: str, role: Any) -> None:
        self.request("POST", "/users/" + self._q(name), {"password": password, "role": role})

    def delete_user(self, name: str) -> int:
        return self.request("DELETE", "/users/" + self._q(name))["revoked_tokens"]

    def set_password(self, name: str, password: str) -> int:
        return self.request("PUT", "/users/" + self._q(name) + "/password", {"password": password})["revoked_tokens"]

    # ---- queues --------------------------------------------------------------------------------------------

    def queues(self) -> List[str]:
        return self.request("GET", "/queues")

    def create(self, name: str, *, type: Optional[str] = None, max_length: Optional[int] = None,
               max_deliveries: Optional[int] = None, dead_letter_queue: Optional[str] = None) -> None:
        options = {k: v for k, v in {"type": type, "max_length": max_length, "max_deliveries": max_deliveries,
                                     "dead_letter_queue": dead_letter_queue}.items() if v is not None}
        self.request("POST", "/queues/" + self._q(name), options or None)

    def delete(self, name: str) -> None:
        self.request("DELETE", "/queues/" + self._q(name))

    def stats(self, name: str) -> Dict[str, Any]:
        return self.request("GET", "/queues/" + self._q(name))

    def redrive(self, name: str, subscription: Optional[str] = None) -> int:
        """Moves dead letters back: the queue's into the queue, or a subscription's to that subscription alone."""
        return self.request("POST", self._from(name, subscription) + "/redrive")["moved"]

    # ---- subscriptions -------------------------------------------------------------------------------------

    @staticmethod
    def _start(start: Optional[str], id: Optional[int], from_time: Optional[str]) -> Dict[str, Any]:
        given = {k: v for k, v in {"start": start, "id": id, "from_time": from_time}.items() if v is not None}
        if len(given) > 1:
            raise ValueError("give at most one of start, id and from_time")
        return given

    def create_subscription(self, queue: str, name: str, *, start: Optional[str] = None, id: Optional[int] = None,
                            from_time: Optional[str] = None, max_deliveries: Optional[int] = None,
                            dead_letter_queue: Optional[str] = None, paused: Optional[bool] = None) -> Dict[str, Any]:
        """Creates a named subscription of ``queue``: it receives every message pushed from where it starts
        (``start="earliest"`` or ``"latest"`` (the default), a message ``id``, or ``from_time``, RFC 3339), at its
        own position, with its own leases and dead-letter queue. Returns the subscription."""
        body = self._start(start, id, from_time)
        body.update({k: v for k, v in {"max_deliveries": max_deliveries, "dead_letter_queue": dead_letter_queue,
                                       "paused": paused}.items() if v is not None})
        return self.request("POST", self._from(queue, name), body or None)

    def subscriptions(self, queue: str) -> List[Dict[str, Any]]:
        """Every named subscription of ``queue``, with its backlog, in-flight count and oldest message's age."""
        return self.request("GET", "/queues/" + self._q(queue) + "/subscriptions")["subscriptions"]

    def subscription(self, queue: str, name: str) -> Dict[str, Any]:
        return self.request("GET", self._from(queue, name))

    def seek(self, queue: str, name: str, *, start: Optional[str] = None, id: Optional[int] = None,
             from_time: Optional[str] = None) -> Dict[str, Any]:
        """Moves a subscription (the replay): it re-delivers from ``start``, ``id`` or ``from_time``."""
        body = self._start(start, id, from_time)
        if not body:
            raise ValueError("give one of start, id and from_time")
        return self.request("POST", self._from(queue, name) + "/seek", body)

    def pause_subscription(self, queue: str, name: str) -> Dict[str, Any]:
        return self.request("POST", self._from(queue, name) + "/pause")

    def resume_subscription(self, queue: str, name: str) -> Dict[str, Any]:
        return self.request("POST", self._from(queue, name) + "/resume")

    def delete_subscription(self, queue: str, name: str) -> None:
        self.request("DELETE", self._from(queue, name))

    # ---- messages ------------------------------------------------------------------------------------------

    def push(self, queue: str, body: Any, metadata: Optional[Dict[str, Any]] = None,
             idempotency_key: Optional[str] = None) -> int:
        """Pushes one message; returns its id. A retry carries the same idempotency key (one is made if none
        is given), so it never stores twice."""
        msg: Dict[str, Any] = {"body": _body(body)}
        if metadata:
            msg["metadata"] = metadata
        key = idempotency_key or str(uuid.uuid4())
        return self.request("POST", "/queues/" + self._q(queue) + "/messages", msg,
                            headers={"Idempotency-Key": key})["id"]

    def push_batch(self, queue: str, messages: Iterable[Any], batch_size: int = 500) -> List[int]:
        """Pushes messages in batches of ``batch_size`` (each all or nothing); returns their ids. Items are bodies,
        models, or ``{"body":..., "metadata":...}`` dicts. Every message gets an idempotency key (unless it has one),
        so a retried batch never stores twice."""
        ids: List[int] = []
        chunk: List[Dict[str, Any]] = []
        for m in messages:
            if isinstance(m, dict) and "body" in m:
                msg = {"body": _body(m["body"]), "metadata": dict(m.get("metadata") or {})}
            else:
                msg = {"body": _body(m), "metadata": {}}
            msg["metadata"].setdefault("idempotency_key", str(uuid.uuid4()))
            chunk.append(msg)
            if len(chunk) >= batch_size:
                ids += self._batch(queue, chunk)
                chunk = []
        if chunk:
            ids += self._batch(queue, chunk)
        return ids

    def _batch(self, queue: str, chunk: List[Dict[str, Any]]) -> List[int]:
        return self.request("POST", "/queues/" + self._q(queue) + "/messages/batch", chunk)["ids"]

    def pull(self, queue: str, wait: int = 0, subscription: Optional[str] = None) -> Optional[Message]:
        """Takes the oldest message for good (from the queue, or through a named ``subscription``), or None (after
        waiting up to ``wait`` seconds)."""
        r = self.request("GET", f"{self._from(queue, subscription)}/messages/first?wait={int(wait)}")
        return None if r is None else Message(r["id"], r["body"], r.get("metadata", {}))

    def pull_batch(self, queue: str, max: int = 100, wait: int = 0,
                   subscription: Optional[str] = None) -> List[Message]:
        r = self.request("GET", f"{self._from(queue, subscription)}/messages?max={int(max)}&wait={int(wait)}")
        return [Message(m["id"], m["body"], m.get("metadata", {})) for m in r]

    # ---- leases --------------------------------------------------------------------------------------------

    def lease(self, queue: str, max: int = 1, wait: int = 0, visibility: Optional[int] = None,
              subscription: Optional[str] = None) -> List[Lease]:
        """Leases up to ``max`` messages (waiting up to ``wait`` seconds for the first), from the queue or through a
        named ``subscription``."""
        path = f"{self._from(queue, subscription)}/leases?max={int(max)}&wait={int(wait)}"
        if visibility is not None:
            path += f"&visibility={int(visibility)}"
        return [Lease(self, queue, m, subscription) for m in self.request("POST", path)]

    def leases(self, queue: str, max: int = 10, wait: int = 20, visibility: Optional[int] = None,
               stop: Optional[threading.Event] = None, subscription: Optional[str] = None) -> Iterator[Lease]:
        """Yields leased messages forever (or until ``stop`` is set), long-polling when the queue is empty."""
        while stop is None or not stop.is_set():
            for lease in self.lease(queue, max, wait, visibility, subscription):
                yield lease

    def ack(self, queue: str, leases: Sequence[str], subscription: Optional[str] = None) -> Dict[str, Any]:
        return self.request("POST", f"{self._from(queue, subscription)}/acks", {"leases": list(leases)})

    def nack(self, queue: str, leases: Sequence[str], delay_seconds: int = 0,
             subscription: Optional[str] = None) -> Dict[str, Any]:
        return self.request("POST", f"{self._from(queue, subscription)}/nacks",
                            {"leases": list(leases), "delay_seconds": int(delay_seconds)})

    def renew(self, queue: str, leases: Sequence[str], visibility_seconds: int,
              subscription: Optional[str] = None) -> Dict[str, Any]:
        return self.request("POST", f"{self._from(queue, subscription)}/renewals",
                            {"leases": list(leases), "visibility_seconds": int(visibility_seconds)})

    # ---- operations ----------------------------------------------------------------------------------------

    def health(self) -> Dict[str, Any]:
        return self.request("GET", "/health/ready", auth=False)
