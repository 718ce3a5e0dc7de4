"""An officer's day through the generated Python bindings of sotay-core.

Run by mobile-core/scripts/test-bindings.sh, which generates the bindings
into a temporary directory on PYTHONPATH and sets SOTAY_PORTFOLIO.
"""

import datetime
import hashlib
import http.server
import json
import os
import sys
import tempfile
import threading
import traceback

import sotay_core as sc

PORTFOLIO = os.environ.get(
    "SOTAY_PORTFOLIO",
    os.path.join(os.path.dirname(__file__), "..", "fixtures", "portfolio.json"),
)

LAN = "0193a000-0000-7000-8000-000000000001"
HUNG = "0193a000-0000-7000-8000-000000000002"
LAN_LOAN = "0193a000-0000-7000-8000-0000000000c1"
TET = "0193a000-0000-7000-8000-0000000000d1"
VN = datetime.timezone(datetime.timedelta(hours=7))


def at(hour, minute):
    """20/11/2026 hour:minute Vietnam time, in milliseconds since 1970."""
    t = datetime.datetime(2026, 11, 20, hour, minute, tzinfo=VN)
    return int(t.timestamp() * 1000)


class Day:
    """One field book shared by the steps, in order, like a real day."""

    def __init__(self):
        self.dir = tempfile.TemporaryDirectory()
        device = sc.DeviceIdentity(
            device_id="0193a000-0000-7000-8000-0000000000e1", device_code="A7K2"
        )
        self.book = sc.FieldBook.open(os.path.join(self.dir.name, "sotay.db"), device)
        self.receipt = None
        self.visit = None


def names(hits):
    return [h.full_name for h in hits]


def test_apply_portfolio(day):
    with open(PORTFOLIO, encoding="utf-8") as f:
        summary = day.book.apply_portfolio_json(f.read())
    assert summary.workers == 4, summary
    assert summary.loans == 4, summary
    assert summary.next_cursor == "c-000001", summary
    assert day.book.officer().full_name == "Trần Văn Minh"


def test_search_with_and_without_accents(day):
    for q in ["nguyen thi lan", "lan thi", "Nguyễn Thị Lan", "NGUYEN THI LAN"]:
        assert names(day.book.search(q, 10)) == ["Nguyễn Thị Lan"], q
    assert names(day.book.search("NGUYỄN", 10)) == ["Nguyễn Thị Lan", "Nguyễn Văn Lâm"]
    assert names(day.book.search("Dang", 10)) == ["Đặng Văn Hùng"]
    assert names(day.book.search("+84 987 654 321", 10)) == ["Đặng Văn Hùng"]
    assert names(day.book.search("0912.345.678", 10)) == ["Nguyễn Thị Lan"]
    assert names(day.book.search("079190012345", 10)) == ["Nguyễn Thị Lan"]
    assert day.book.search("lan hoa", 10) == []


def test_record_visit(day):
    fact = day.book.record_visit(
        sc.VisitInput(
            worker_id=LAN,
            purpose=sc.VisitPurpose.REPAYMENT_FOLLOW_UP,
            outcome="Hẹn trả nợ",
            notes="Làm ca đêm, gặp lúc 9 giờ",
            location=sc.GeoPoint(latitude=10.7469, longitude=106.726, accuracy_m=15.0),
            recorded_at=at(9, 15),
        )
    )
    assert fact.kind == sc.RecordKind.VISIT
    assert fact.device_seq == 1
    day.visit = fact


def test_record_repayment(day):
    r = day.book.record_repayment(
        sc.RepaymentInput(loan_id=LAN_LOAN, amount="500000", recorded_at=at(9, 30))
    )
    assert r.receipt_no == "A7K2-000001", r.receipt_no
    assert (r.interest, r.principal) == ("60000", "440000"), (r.interest, r.principal)
    assert [(l.installment, l.interest, l.principal) for l in r.lines] == [
        (3, "12000", "100000"),
        (4, "12000", "100000"),
        (5, "12000", "100000"),
        (6, "12000", "100000"),
        (7, "12000", "40000"),
    ], r.lines
    assert r.balance_after == "620000", r.balance_after
    assert r.text_vi.startswith(
        "PHIẾU THU số A7K2-000001, Nguyễn Thị Lan đã nộp, Quỹ đã nhận 500.000 ₫"
    ), r.text_vi
    assert "ngày 20/11/2026 09:30, còn phải trả 620.000 ₫ (dư nợ gốc 560.000 ₫)" in r.text_vi, r.text_vi
    assert day.book.receipt("A7K2-000001").amount == "500000"
    day.receipt = r


def test_refused_over_payment(day):
    try:
        day.book.record_repayment(
            sc.RepaymentInput(loan_id=LAN_LOAN, amount="620001", recorded_at=at(9, 40))
        )
    except sc.FieldBookError.Validation as e:
        assert e.field == "amount", e
        assert e.code == "amount_above_outstanding", e
        assert "620.000 ₫" in e.message_vi, e.message_vi
    else:
        raise AssertionError("an over-payment was recorded")
    # Typed as Vietnamese write amounts, with dots between thousands: refused
    # as they are, never read as decimals ("200.000" is not 200 đồng).
    for typed in ["1.500.000", "200.000", "1.000", "1.500", "1,5"]:
        try:
            day.book.record_repayment(
                sc.RepaymentInput(loan_id=LAN_LOAN, amount=typed, recorded_at=at(9, 40))
            )
        except sc.FieldBookError.Validation as e:
            assert e.field == "amount", e
            assert typed in e.message_vi, e.message_vi
        else:
            raise AssertionError(f"the amount {typed!r} was accepted")


def test_gift_and_refused_second_gift(day):
    fact = day.book.record_gift(
        sc.GiftInput(
            campaign_id=TET,
            worker_id=LAN,
            acknowledged_name="Nguyễn Thị Lan",
            signature_image=b"\x89PNG\r\n\x1a\nsignature",
            recorded_at=at(10, 0),
        )
    )
    assert fact.kind == sc.RecordKind.GIFT_HANDOUT
    for worker in [LAN, HUNG]:  # Hùng received it on another phone
        try:
            day.book.record_gift(
                sc.GiftInput(
                    campaign_id=TET,
                    worker_id=worker,
                    acknowledged_name="x",
                    signature_image=None,
                    recorded_at=at(10, 5),
                )
            )
        except sc.FieldBookError.Conflict as e:
            assert e.code == "already_received", e
        else:
            raise AssertionError("a second gift was recorded")
    tet = [c for c in day.book.campaigns() if c.name == "Tết Sum vầy 2027"][0]
    assert tet.remaining == 8, tet


def test_void(day):
    fact = day.book.void_record(
        sc.CorrectionInput(
            target_id=day.receipt.client_id, reason="Nhập sai số tiền", recorded_at=at(11, 0)
        )
    )
    assert fact.kind == sc.RecordKind.VOID
    assert day.book.receipt("A7K2-000001").voided
    detail = day.book.worker_detail(LAN)
    assert detail.balance == "1120000", detail.balance
    try:
        day.book.void_record(
            sc.CorrectionInput(target_id=day.receipt.client_id, reason="lần nữa", recorded_at=at(11, 1))
        )
    except sc.FieldBookError.Conflict as e:
        assert e.code == "already_voided", e
    else:
        raise AssertionError("voided twice")


def test_bad_uuid_is_a_validation_error(day):
    try:
        day.book.worker_detail("not-a-uuid")
    except sc.FieldBookError.Validation as e:
        assert e.field == "id", e
    else:
        raise AssertionError("a bad id was accepted")


def test_outbox_and_summary(day):
    items = day.book.outbox(sc.OutboxFilter.PENDING, 100)
    kinds = [i.kind for i in items]
    assert kinds == [
        sc.RecordKind.VISIT,
        sc.RecordKind.REPAYMENT,
        sc.RecordKind.GIFT_HANDOUT,
        sc.RecordKind.VOID,
    ], kinds
    assert [i.device_seq for i in items] == [1, 2, 3, 4]
    assert items[1].voided
    assert '"kind":"repayment"' in items[1].envelope_json
    n = day.book.mark_upload_results(
        [
            sc.UploadResult(
                client_id=items[0].client_id,
                outcome=sc.UploadOutcome.ACCEPTED,
                code=None,
                message_vi=None,
                message_en=None,
            )
        ]
    )
    assert n == 1
    assert len(day.book.outbox(sc.OutboxFilter.ACCEPTED, 100)) == 1
    assert len(day.book.next_pending_batch(10)) == 3
    summary = day.book.daily_summary("2026-11-20")
    assert summary.cash_collected == "0", summary.cash_collected
    assert summary.cash_to_hand_over == "0", summary.cash_to_hand_over
    assert (summary.visits, summary.gifts, summary.voids) == (1, 1, 1), summary
    route = day.book.route("20/11/2026")
    assert [s.boarding_house for s in route] == ["Nhà trọ Cô Ba", "Khu trọ Hòa Bình"], route


class Server(http.server.BaseHTTPRequestHandler):
    """A minimal sync server on 127.0.0.1: sign-in, batches, change pages."""

    stored = {}
    batches = []
    signatures = {}

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/api/v1/auth/login":
            if body["password"] != "mk-1":
                return self.answer(401, {"type": "about:blank", "title": "Unauthorized", "status": 401,
                                         "detail": "Sai tên đăng nhập hoặc mật khẩu",
                                         "code": "invalid_credentials"})
            return self.answer(200, {
                "access_token": "a1", "token_type": "Bearer", "expires_in": 900,
                "refresh_token": "r1", "refresh_expires_in": 86400,
                "user": {"id": 42, "username": body["username"], "full_name": "Trần Văn Minh",
                         "role": "officer", "branch_id": 3},
                "device": {"id": body["device_id"], "name": body["device_name"], "code": "A7K2"},
            })
        assert self.headers["Authorization"] == "Bearer a1"
        assert self.path == "/api/v1/sync/batches", self.path
        Server.batches.append(body["batch_id"])
        results = []
        for r in body["records"]:
            dup = r["client_id"] in Server.stored
            Server.stored[r["client_id"]] = r
            results.append({"client_id": r["client_id"], "outcome": "duplicate" if dup else "accepted"})
        self.answer(200, {"results": results})

    def do_PUT(self):
        assert self.headers["Authorization"] == "Bearer a1"
        assert self.headers["Content-Type"] == "image/png", self.headers["Content-Type"]
        image = self.rfile.read(int(self.headers["Content-Length"]))
        prefix, suffix = "/api/v1/sync/records/", "/signature"
        assert self.path.startswith(prefix) and self.path.endswith(suffix), self.path
        client_id = self.path[len(prefix):-len(suffix)]
        record = Server.stored[client_id]  # the record came first
        sha = hashlib.sha256(image).hexdigest()
        assert record["payload"]["signature_sha256"] == sha, record
        Server.signatures[client_id] = image
        self.answer(201, {"record_id": client_id, "sha256": sha, "bytes": len(image),
                          "media_type": "image/png", "duplicate": False})

    def do_GET(self):
        assert self.headers["Authorization"] == "Bearer a1"
        assert self.headers["Accept-Language"] == "vi"
        # The look a sync takes before sending (one change), then the pull.
        assert self.path.startswith(
            ("/api/v1/sync/changes?since=c-000001&limit=1", "/api/v1/sync/changes?since=c-000002&")
        ), self.path
        self.answer(200, {"next": "c-000002", "has_more": False})


class Progress(sc.SyncProgress):
    def __init__(self):
        self.seen = []

    def on_progress(self, sent, total_to_send, received):
        self.seen.append((sent, total_to_send, received))


def test_sign_in_and_sync(day):
    try:
        day.book.sync(None)
    except sc.FieldBookError.Auth as e:
        assert e.code == "not_signed_in", e
    else:
        raise AssertionError("sync without a session must fail")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        try:
            day.book.login(url, "minh.tv", "sai", "Điện thoại")
        except sc.FieldBookError.Auth as e:
            assert e.message_vi == "Sai tên đăng nhập hoặc mật khẩu", e
        else:
            raise AssertionError("a wrong password must fail")
        session = day.book.login(url, "minh.tv", "mk-1", "Điện thoại của Minh")
        assert session.device_code == "A7K2" and session.user_id == "42", session
        progress = Progress()
        report = day.book.sync(progress)
        assert (report.sent, report.accepted, report.rejected) == (3, 3, 0), report
        assert len(Server.batches) == 1
        # The gift's signature image follows its record.
        assert (report.signatures_sent, report.signatures_waiting) == (1, 0), report
        assert list(Server.signatures.values()) == [b"\x89PNG\r\n\x1a\nsignature"]
        assert progress.seen[0] == (0, 3, 0) and progress.seen[-1][0] == 3, progress.seen
        assert day.book.outbox(sc.OutboxFilter.PENDING, 100) == []
        assert len(day.book.outbox(sc.OutboxFilter.ACCEPTED, 100)) == 4
        assert day.book.session().signed_in
    finally:
        server.shutdown()


def main():
    day = Day()
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and callable(f)]
    passed = failed = 0
    for name, test in tests:
        try:
            test(day)
        except Exception:  # report every failure, then fail the run
            failed += 1
            print(f"FAILED {name}")
            traceback.print_exc()
        else:
            passed += 1
            print(f"ok     {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
