// An officer's day through the generated Kotlin bindings of sotay-core, on
// the JVM with JNA, as the Android app calls them: values, records and
// callbacks across the FFI, errors as FieldBookException, a sign-in and a
// sync against a small local server.
//
// Run by uniffi-bindgen/tests/kotlin_bindings.rs, which generates the
// bindings, compiles them with this file and runs `vn.sotay.test.DayTestKt`
// with SOTAY_PORTFOLIO set. Prints "N passed, M failed".
package vn.sotay.test

import com.sun.net.httpserver.HttpExchange
import com.sun.net.httpserver.HttpServer
import java.io.File
import java.net.InetSocketAddress
import java.nio.file.Files
import java.time.OffsetDateTime
import java.time.ZoneOffset
import vn.sotay.core.*

const val LAN = "0193a000-0000-7000-8000-000000000001"
const val HUNG = "0193a000-0000-7000-8000-000000000002"
const val LAN_LOAN = "0193a000-0000-7000-8000-0000000000c1"
const val TET = "0193a000-0000-7000-8000-0000000000d1"

/** 20/11/2026 hour:minute Vietnam time, in milliseconds since 1970. */
fun at(hour: Int, minute: Int): Long =
    OffsetDateTime.of(2026, 11, 20, hour, minute, 0, 0, ZoneOffset.ofHours(7)).toInstant().toEpochMilli()

fun check(ok: Boolean, what: () -> String) {
    if (!ok) throw AssertionError(what())
}

inline fun <reified E : FieldBookException> refused(block: () -> Unit): E {
    try {
        block()
    } catch (e: FieldBookException) {
        if (e is E) return e
        throw AssertionError("expected ${E::class.simpleName}, got $e")
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing was refused")
}

class Day {
    val dir: File = Files.createTempDirectory("sotay-kotlin").toFile()
    val device = DeviceIdentity(deviceId = "0193a000-0000-7000-8000-0000000000e1", deviceCode = "A7K2")
    var book: FieldBook = FieldBook.open(File(dir, "sotay.db").path, device)
    var receipt: RepaymentReceipt? = null
}

fun names(hits: List<WorkerHit>) = hits.map { it.fullName }

fun applyPortfolio(day: Day) {
    val summary = day.book.applyPortfolioJson(File(System.getenv("SOTAY_PORTFOLIO")).readText())
    check(summary.workers == 4uL && summary.loans == 4uL) { "$summary" }
    check(summary.nextCursor == "c-000001") { summary.nextCursor }
    check(day.book.officer()?.fullName == "Trần Văn Minh") { "${day.book.officer()}" }
}

fun searchWithAndWithoutAccents(day: Day) {
    for (q in listOf("nguyen thi lan", "Nguyễn Thị Lan", "NGUYEN THI LAN", "079190012345", "0912.345.678")) {
        check(names(day.book.search(q, 10u)) == listOf("Nguyễn Thị Lan")) { q }
    }
    check(names(day.book.search("Dang", 10u)) == listOf("Đặng Văn Hùng")) { "Dang" }
    check(day.book.search("lan hoa", 10u).isEmpty()) { "lan hoa" }
}

fun recordVisit(day: Day) {
    val fact = day.book.recordVisit(
        VisitInput(
            workerId = LAN,
            purpose = VisitPurpose.REPAYMENT_FOLLOW_UP,
            outcome = "Hẹn trả nợ",
            notes = "Làm ca đêm, gặp lúc 9 giờ",
            location = GeoPoint(latitude = 10.7469, longitude = 106.726, accuracyM = 15.0),
            recordedAt = at(9, 15),
        )
    )
    check(fact.kind == RecordKind.VISIT && fact.deviceSeq == 1L) { "$fact" }
}

fun recordRepayment(day: Day) {
    val r = day.book.recordRepayment(RepaymentInput(loanId = LAN_LOAN, amount = "500000", recordedAt = at(9, 30)))
    check(r.receiptNo == "A7K2-000001") { r.receiptNo }
    check(r.interest == "60000" && r.principal == "440000") { "${r.interest} ${r.principal}" }
    check(r.lines.map { Triple(it.installment, it.interest, it.principal) } == listOf(
        Triple(3u, "12000", "100000"),
        Triple(4u, "12000", "100000"),
        Triple(5u, "12000", "100000"),
        Triple(6u, "12000", "100000"),
        Triple(7u, "12000", "40000"),
    )) { "${r.lines}" }
    check(r.lines[0].dueOn == "2026-09-01") { r.lines[0].dueOn }
    check(r.balanceAfter == "620000") { r.balanceAfter }
    check(r.textVi.startsWith("PHIẾU THU số A7K2-000001, Nguyễn Thị Lan đã nộp, Quỹ đã nhận 500.000 ₫")) { r.textVi }
    check(day.book.receipt("A7K2-000001") == r) { "the reprint differs" }
    day.receipt = r
}

fun refusedOverPayment(day: Day) {
    val e = refused<FieldBookException.Validation> {
        day.book.recordRepayment(RepaymentInput(loanId = LAN_LOAN, amount = "620001", recordedAt = at(9, 40)))
    }
    check(e.field == "amount" && e.code == "amount_above_outstanding") { "$e" }
    check(e.messageVi.contains("620.000 ₫")) { e.messageVi }
    val bad = refused<FieldBookException.Validation> {
        day.book.recordRepayment(RepaymentInput(loanId = LAN_LOAN, amount = "1.500.000", recordedAt = at(9, 40)))
    }
    check(bad.field == "amount") { "$bad" }
}

fun giftAndRefusedSecondGift(day: Day) {
    val fact = day.book.recordGift(
        GiftInput(
            campaignId = TET,
            workerId = LAN,
            acknowledgedName = "Nguyễn Thị Lan",
            signatureImage = SIGNATURE,
            recordedAt = at(10, 0),
        )
    )
    check(fact.kind == RecordKind.GIFT_HANDOUT) { "$fact" }
    for (worker in listOf(LAN, HUNG)) { // Hùng received it on another phone
        val e = refused<FieldBookException.Conflict> {
            day.book.recordGift(GiftInput(TET, worker, "x", null, at(10, 5)))
        }
        check(e.code == "already_received") { "$e" }
    }
    val tet = day.book.campaigns().first { it.name == "Tết Sum vầy 2027" }
    check(tet.remaining == 8L) { "$tet" }
}

fun voidTheRepayment(day: Day) {
    val target = day.receipt!!.clientId
    val fact = day.book.voidRecord(CorrectionInput(targetId = target, reason = "Nhập sai số tiền", recordedAt = at(11, 0)))
    check(fact.kind == RecordKind.VOID) { "$fact" }
    check(day.book.receipt("A7K2-000001").voided) { "not voided" }
    check(day.book.workerDetail(LAN).balance == "1120000") { day.book.workerDetail(LAN).balance }
    val e = refused<FieldBookException.Conflict> {
        day.book.voidRecord(CorrectionInput(target, "lần nữa", at(11, 1)))
    }
    check(e.code == "already_voided") { "$e" }
}

fun badIdIsAValidationError(day: Day) {
    val e = refused<FieldBookException.Validation> { day.book.workerDetail("not-a-uuid") }
    check(e.field == "id") { "$e" }
}

fun outboxAndSummary(day: Day) {
    val items = day.book.outbox(OutboxFilter.PENDING, 100u)
    check(items.map { it.kind } == listOf(RecordKind.VISIT, RecordKind.REPAYMENT, RecordKind.GIFT_HANDOUT, RecordKind.VOID)) {
        "${items.map { it.kind }}"
    }
    check(items.map { it.deviceSeq } == listOf(1L, 2L, 3L, 4L) && items[1].voided) { "$items" }
    val summary = day.book.dailySummary("2026-11-20")
    check(summary.cashCollected == "0" && summary.visits == 1u && summary.gifts == 1u && summary.voids == 1u) { "$summary" }
    val route = day.book.route("20/11/2026")
    check(route.map { it.boardingHouse } == listOf("Nhà trọ Cô Ba", "Khu trọ Hòa Bình")) { "$route" }
}

fun survivesReopening(day: Day) {
    day.book.close()
    day.book = FieldBook.open(File(day.dir, "sotay.db").path, day.device)
    check(day.book.outbox(OutboxFilter.PENDING, 100u).size == 4) { "the outbox after reopening" }
    val other = refused<FieldBookException.Conflict> {
        FieldBook.open(File(day.dir, "sotay.db").path, DeviceIdentity(day.device.deviceId, "B8Z9"))
    }
    check(other.code == "device_mismatch") { "$other" }
}

fun aKeyIsRefusedWithoutEncryption(day: Day) {
    val e = refused<FieldBookException.Storage> {
        FieldBook.openEncrypted(File(day.dir, "other.db").path, day.device, "0".repeat(64))
    }
    check(e.code == "encryption_unavailable") { "$e" }
}

/** A minimal sync server on 127.0.0.1: sign-in, batches, change pages. */
class Server {
    val stored = mutableSetOf<String>()
    val batches = mutableListOf<String>()
    val signatures = mutableMapOf<String, ByteArray>()
    private val http: HttpServer = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)

    init {
        http.createContext("/") { ex -> handle(ex) }
        http.start()
    }

    val url get() = "http://127.0.0.1:${http.address.port}"

    fun stop() = http.stop(0)

    private fun answer(ex: HttpExchange, status: Int, body: String) {
        val data = body.toByteArray()
        ex.responseHeaders.add("Content-Type", "application/json")
        ex.sendResponseHeaders(status, data.size.toLong())
        ex.responseBody.use { it.write(data) }
    }

    private fun field(json: String, name: String): String =
        Regex("\"$name\"\\s*:\\s*\"([^\"]*)\"").find(json)?.groupValues?.get(1) ?: error("no $name in $json")

    private fun handle(ex: HttpExchange) {
        val raw = ex.requestBody.readBytes()
        val body = raw.decodeToString()
        val path = ex.requestURI.toString()
        if (path == "/api/v1/auth/login") {
            if (field(body, "password") != "mk-1") {
                return answer(ex, 401, """{"type":"about:blank","title":"Unauthorized","status":401,
                    "detail":"Sai tên đăng nhập hoặc mật khẩu","code":"invalid_credentials"}""")
            }
            return answer(ex, 200, """{"access_token":"a1","token_type":"Bearer","expires_in":900,
                "refresh_token":"r1","refresh_expires_in":86400,
                "user":{"id":42,"username":"${field(body, "username")}","full_name":"Trần Văn Minh","role":"officer","branch_id":3},
                "device":{"id":"${field(body, "device_id")}","name":"${field(body, "device_name")}","code":"A7K2"}}""")
        }
        check(ex.requestHeaders.getFirst("Authorization") == "Bearer a1") { "no token" }
        if (ex.requestMethod == "PUT") {
            check(path.startsWith("/api/v1/sync/records/") && path.endsWith("/signature")) { path }
            check(ex.requestHeaders.getFirst("Content-Type") == "image/png") { "content type" }
            val id = path.removePrefix("/api/v1/sync/records/").removeSuffix("/signature")
            check(id in stored) { "a signature before its record" }
            signatures[id] = raw
            return answer(ex, 201, """{"record_id":"$id","bytes":${raw.size},"media_type":"image/png","duplicate":false}""")
        }
        if (ex.requestMethod == "POST") {
            check(path == "/api/v1/sync/batches") { path }
            batches.add(field(body, "batch_id"))
            val ids = Regex("\"client_id\"\\s*:\\s*\"([^\"]*)\"").findAll(body).map { it.groupValues[1] }.toList()
            val results = ids.joinToString(",") { id ->
                val outcome = if (stored.add(id)) "accepted" else "duplicate"
                """{"client_id":"$id","outcome":"$outcome"}"""
            }
            return answer(ex, 200, """{"results":[$results]}""")
        }
        // The look a sync takes before sending (one change), then the pull.
        check(path.startsWith("/api/v1/sync/changes?since=c-000001&limit=1") ||
            path.startsWith("/api/v1/sync/changes?since=c-000002&")) { path }
        answer(ex, 200, """{"next":"c-000002","has_more":false}""")
    }
}

val SIGNATURE = byteArrayOf(0x89.toByte(), 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3)

class Progress : SyncProgress {
    val seen = mutableListOf<Triple<UInt, UInt, ULong>>()
    override fun onProgress(sent: UInt, totalToSend: UInt, received: ULong) {
        seen.add(Triple(sent, totalToSend, received))
    }
}

fun signInAndSync(day: Day) {
    val e = refused<FieldBookException.Auth> { day.book.sync(null) }
    check(e.code == "not_signed_in") { "$e" }
    val server = Server()
    try {
        val wrong = refused<FieldBookException.Auth> { day.book.login(server.url, "minh.tv", "sai", "Điện thoại") }
        check(wrong.messageVi == "Sai tên đăng nhập hoặc mật khẩu") { "$wrong" }
        val session = day.book.login(server.url, "minh.tv", "mk-1", "Điện thoại của Minh")
        check(session.deviceCode == "A7K2" && session.userId == "42") { "$session" }
        val progress = Progress()
        val report = day.book.sync(progress)
        check(report.sent == 4u && report.accepted == 4u && report.rejected == 0u) { "$report" }
        check(server.batches.size == 1) { "${server.batches}" }
        // The gift's signature image follows its record.
        check(report.signaturesSent == 1u && report.signaturesWaiting == 0u) { "$report" }
        check(server.signatures.values.single().contentEquals(SIGNATURE)) { "${server.signatures}" }
        check(progress.seen.first() == Triple(0u, 4u, 0uL) && progress.seen.last().first == 4u) { "${progress.seen}" }
        check(day.book.outbox(OutboxFilter.PENDING, 100u).isEmpty()) { "still pending" }
        check(day.book.outbox(OutboxFilter.ACCEPTED, 100u).size == 4) { "accepted" }
        check(day.book.session()?.signedIn == true) { "signed out" }
    } finally {
        server.stop()
    }
}

fun main() {
    val day = Day()
    val steps = listOf(
        "apply_portfolio" to ::applyPortfolio,
        "search_with_and_without_accents" to ::searchWithAndWithoutAccents,
        "record_visit" to ::recordVisit,
        "record_repayment" to ::recordRepayment,
        "refused_over_payment" to ::refusedOverPayment,
        "gift_and_refused_second_gift" to ::giftAndRefusedSecondGift,
        "void" to ::voidTheRepayment,
        "bad_id_is_a_validation_error" to ::badIdIsAValidationError,
        "outbox_and_summary" to ::outboxAndSummary,
        "survives_reopening" to ::survivesReopening,
        "a_key_is_refused_without_encryption" to ::aKeyIsRefusedWithoutEncryption,
        "sign_in_and_sync" to ::signInAndSync,
    )
    var passed = 0
    var failed = 0
    for ((name, step) in steps) {
        try {
            step(day)
            passed++
            println("ok     $name")
        } catch (e: Throwable) {
            failed++
            println("FAILED $name")
            e.printStackTrace(System.out)
        }
    }
    day.book.close()
    day.dir.deleteRecursively()
    println("$passed passed, $failed failed")
    System.exit(if (failed == 0) 0 else 1)
}
