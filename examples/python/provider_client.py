#!/usr/bin/env python3
"""A provider's lead follower: acknowledges each new lead as it arrives.

Follows ProviderService.SubscribeLeads and keeps its place in a cursor file (the format of
`intakectl leads tail --cursor_file`), so neither a restart of intaked nor one of this client
misses a lead or handles one twice. See "Integrating a provider" in the top-level README.
"""

import argparse
import os
import signal
import sys
import tempfile
import threading

import grpc

from intake.v1 import lead_pb2
from intake.v1 import provider_service_pb2 as provider_pb2
from intake.v1 import provider_service_pb2_grpc as provider_grpc

# Worth another try later: intaked draining, restarting or rate-limiting, the network gone. (A
# CANCELLED comes from a server going away: this client stops reading a call it cancels.)
# Anything else (a revoked token, a cursor beyond the log) would only fail again.
RETRYABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
}
FIRST_BACKOFF_S, MAX_BACKOFF_S = 0.1, 5.0
HEARTBEAT = lead_pb2.LEAD_EVENT_TYPE_HEARTBEAT
ASSIGNED = lead_pb2.LEAD_EVENT_TYPE_ASSIGNED


class Cursor:
    """The last sequence handled and the database that issued it, kept in a small file."""

    def __init__(self, path):
        self.path, self.sequence, self.instance_id = path, 0, ""
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                fields = dict(line.rstrip("\n").partition("=")[::2] for line in f)
            self.sequence = int(fields.get("sequence", 0))
            self.instance_id = fields.get("instance_id", "")

    def save(self):
        # Written beside the file, then renamed over it: a crash leaves the old or the new one.
        directory = os.path.dirname(os.path.abspath(self.path))
        with tempfile.NamedTemporaryFile("w", dir=directory, delete=False) as f:
            f.write(f"sequence={self.sequence}\ninstance_id={self.instance_id}\n")
        os.replace(f.name, self.path)


class Stopped(Exception):
    """stop() was called: the follower ends between two events."""


class LeadFollower:
    def __init__(self, channel, token, cursor):
        self.stub = provider_grpc.ProviderServiceStub(channel)
        self.metadata = [("authorization", f"Bearer {token}")]
        self.cursor = cursor
        self.backoff = FIRST_BACKOFF_S
        self.stopping = threading.Event()
        self.stream = None  # The call being read, for stop() to cancel.

    def stop(self):
        """Makes run() return between two events, never between handling one and saving the
        cursor past it (the next run would handle it again). For another thread."""
        self.stopping.set()
        stream = self.stream
        if stream is not None:
            stream.cancel()

    def run(self):
        """Follows the stream until stop(), resuming from the cursor whenever it breaks.
        Returns None after stop(), or why it cannot go on."""
        while not self.stopping.is_set():
            try:
                if self.follow_once():
                    continue  # The cursor starts over: resume at once.
                problem = "the stream ended"
            except Stopped:
                return None
            except grpc.RpcError as e:
                if self.stopping.is_set():
                    return None
                if e.code() == grpc.StatusCode.OUT_OF_RANGE:
                    return (f"sequence {self.cursor.sequence} is beyond the server's newest "
                            f"event: a cursor from another database? Remove {self.cursor.path}")
                if e.code() not in RETRYABLE:
                    return f"{e.code().name}: {e.details()}"
                problem = f"{e.code().name}: {e.details()}"
            print(f"{problem}; resuming after sequence {self.cursor.sequence}", file=sys.stderr)
            self.pause()
        return None

    def follow_once(self):
        """Reads one stream until it ends; True if it stopped it to start over from 0."""
        request = provider_pb2.SubscribeLeadsRequest(after_sequence=self.cursor.sequence)
        # wait_for_ready: while intaked is away, the call waits for it instead of failing.
        self.stream = self.stub.SubscribeLeads(request, metadata=self.metadata,
                                               wait_for_ready=True)
        for event in self.stream:
            if self.stopping.is_set():
                raise Stopped()
            self.backoff = FIRST_BACKOFF_S
            if event.type == HEARTBEAT:
                if self.database_changed(event.instance_id):
                    self.stream.cancel()
                    return True
            elif event.sequence > self.cursor.sequence:  # At least once: skip what was handled.
                self.handle(event)
                self.cursor.sequence = event.sequence
                self.cursor.save()
        if self.stopping.is_set():  # stop() came before this call was there to cancel.
            raise Stopped()
        return False

    def database_changed(self, instance_id):
        """Sequences mean something only against the database that issued them."""
        if instance_id == self.cursor.instance_id:
            return False
        changed = self.cursor.instance_id != ""
        if changed:
            print("the server's database changed: replaying its log", file=sys.stderr)
            self.cursor.sequence = 0
        self.cursor.instance_id = instance_id
        self.cursor.save()
        return changed

    def handle(self, event):
        lead_id = event.lead.lead_id
        if event.type == ASSIGNED:
            if self.acknowledge(lead_id):
                print(f"acknowledged lead {lead_id} (sequence {event.sequence})", flush=True)
        else:
            kind = lead_pb2.LeadEventType.Name(event.type)
            print(f"{kind} lead {lead_id} (sequence {event.sequence})", flush=True)

    def acknowledge(self, lead_id):
        """AcknowledgeLead, retried while intaked is away: a repeat changes nothing."""
        request = provider_pb2.AcknowledgeLeadRequest(lead_id=lead_id)
        while True:
            try:
                self.stub.AcknowledgeLead(request, metadata=self.metadata, timeout=10,
                                          wait_for_ready=True)
                return True
            except grpc.RpcError as e:
                if e.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION):
                    # Reassigned away, opted out or erased meanwhile: nothing to acknowledge.
                    print(f"lead {lead_id}: {e.details()}", file=sys.stderr)
                    return False
                if e.code() not in RETRYABLE:
                    raise
                if self.stopping.is_set():
                    raise Stopped() from e  # Not acknowledged: the next run handles it.
                self.pause()

    def pause(self):
        self.stopping.wait(self.backoff)  # Over at once on stop().
        self.backoff = min(self.backoff * 2, MAX_BACKOFF_S)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default=os.environ.get("INTAKE_PUBLIC_ADDR", "127.0.0.1:50051"),
                        help="intaked's public listener (default: $INTAKE_PUBLIC_ADDR or "
                             "127.0.0.1:50051)")
    parser.add_argument("--token_file", required=True, help="the provider token ops issued")
    parser.add_argument("--cursor_file", required=True, help="where the resume point is kept")
    args = parser.parse_args()
    with open(args.token_file, encoding="utf-8") as f:
        token = f.read().strip()
    # Plaintext, like intaked's default listener (grpc.secure_channel for TLS). After an outage
    # the channel tries to reconnect at most 5 s apart (gRPC's default is 120 s). A ping every
    # 20 s, unanswered for 10 s, ends a connection that died without a word (a dropped network
    # path, a frozen server), which would otherwise leave the stream waiting for ever; intaked
    # accepts pings every 5 s.
    options = [("grpc.max_reconnect_backoff_ms", 5000),
               ("grpc.keepalive_time_ms", 20000),
               ("grpc.keepalive_timeout_ms", 10000)]
    with grpc.insecure_channel(args.target, options=options) as channel:
        follower = LeadFollower(channel, token, Cursor(args.cursor_file))
        # The follower runs on a thread of its own, and this one only waits: Python runs signal
        # handlers here, so Ctrl-C or SIGTERM never lands inside gRPC's code (where raising can
        # leave its locks held) and stops the follower between two events.
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, lambda *_: follower.stop())
        outcome = []

        def follow():
            try:
                outcome.append(follower.run())
            except Exception as e:  # pylint: disable=broad-except
                outcome.append(f"{type(e).__name__}: {e}")

        worker = threading.Thread(target=follow)
        worker.start()
        while worker.is_alive():
            worker.join(timeout=1)
    if outcome and outcome[0] is not None:
        sys.exit(outcome[0])


if __name__ == "__main__":
    main()
