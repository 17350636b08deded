"""The simulated ESC/POS printer, alone and behind real TCP sockets and a real pty."""

from __future__ import annotations

import io
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import serial
from PIL import Image

from drivers import InvalidInput
from drivers.escpos.interpreter import decode_text
from drivers.escpos.status import STATUS_QUERY, parse_status
from drivers.printer_state import PrinterState
from drivers.profiles import get_profile
from drivers.sim.control import apply_control, run_printer_sim
from drivers.sim.printer import SimEscposPrinter, SimJob, status_byte
from drivers.sim.shells import PtyShell, TcpShell
from tests.drivers.polling import wait_for

pytestmark = pytest.mark.usefixtures("no_leaks")
CN80 = get_profile("generic-cn-80")
ROOT = Path(__file__).resolve().parents[3]
DEADLINE = 30.0
KANJI_ON, KANJI_OFF = b"\x1c&", b"\x1c."
CUT = b"\x1dVA\x03"


def gb(text: str) -> bytes:
    return KANJI_ON + text.encode("gb18030") + KANJI_OFF


def receipt(title: str) -> bytes:
    return b"\x1b@\x1ba\x01" + gb(title) + b"\n\x1ba\x00" + gb("不锈钢合页 4寸") + b" x40\n" + CUT


JOB1, JOB2 = receipt("重庆江北建材旗舰店"), receipt("渝中解放碑通讯店")


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    sock.settimeout(DEADLINE)
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


# -- the model ------------------------------------------------------------------------------
@pytest.mark.parametrize(("state", "expected"), [
    ("ok", PrinterState.OK), ("paper_low", PrinterState.PAPER_LOW),
    ("paper_out", PrinterState.PAPER_OUT), ("slow", PrinterState.OK),
])
def test_model_answers_status_from_its_state(state: str, expected: PrinterState) -> None:
    model = SimEscposPrinter(CN80, state)
    reply = model.receive(STATUS_QUERY)
    assert len(reply) == 4
    assert parse_status(list(reply)).state == expected


def test_model_with_cover_open_does_not_answer() -> None:
    assert SimEscposPrinter(CN80, "cover_open").receive(STATUS_QUERY) == b""
    assert [status_byte("cover_open", n) for n in (1, 2, 3, 4)] == [None] * 4


def test_model_states_map_to_connected_and_delay() -> None:
    model = SimEscposPrinter(CN80, slow_delay=1.5)
    assert model.connected and model.reply_delay == 0 and model.read_pause == 0
    model.state = "slow"
    assert model.reply_delay == 1.5 and model.read_pause > 0
    model.state = "disconnected"
    assert not model.connected
    with pytest.raises(InvalidInput):
        model.state = "on_fire"


def test_jobs_end_at_cuts_and_at_end_of_stream() -> None:
    model = SimEscposPrinter(CN80)
    model.receive(JOB1[:10])
    model.receive(JOB1[10:] + JOB2 + gb("无切刀") + b"\n")
    assert model.jobs() == [JOB1, JOB2]
    model.end_of_stream()
    assert model.jobs() == [JOB1, JOB2, gb("无切刀") + b"\n"]
    assert bytes(model.received) == JOB1 + JOB2 + gb("无切刀") + b"\n"
    assert decode_text(model.jobs()[1], CN80) == ["渝中解放碑通讯店", "不锈钢合页 4寸 x40"]


def test_status_polls_are_not_jobs() -> None:
    model = SimEscposPrinter(CN80)
    model.receive(STATUS_QUERY)
    model.end_of_stream()
    model.receive(STATUS_QUERY + JOB1)
    assert model.jobs() == [STATUS_QUERY + JOB1]


def test_not_ready_printer_drops_jobs_and_records_them() -> None:
    model = SimEscposPrinter(CN80, "paper_out")
    assert len(model.receive(STATUS_QUERY + JOB1)) == 4
    model.state = "cover_open"
    model.receive(JOB2)
    model.state = "ok"
    model.receive(JOB1)
    assert model.jobs() == [JOB1]
    assert model.rejected == [STATUS_QUERY + JOB1, JOB2]
    assert [j.printed for j in model.all_jobs()] == [False, False, True]


def test_status_bytes_inside_image_data_get_no_answer() -> None:
    image = b"\x1dv0\x00\x03\x00\x02\x00" + b"\x10\x04\x01" * 2
    model = SimEscposPrinter(CN80)
    assert model.receive(image) == b""
    assert model.receive(b"\x10\x04\x01") == b"\x12"


def test_drawer_state_shows_in_the_status() -> None:
    model = SimEscposPrinter(CN80)
    model.drawer_open = True
    assert parse_status(list(model.receive(STATUS_QUERY))).drawer_open is True


def test_render_job_and_on_job_callback() -> None:
    seen: list[tuple[int, SimJob]] = []
    model = SimEscposPrinter(CN80, on_job=lambda n, job: seen.append((n, job)))
    model.receive(JOB1)
    assert seen == [(1, SimJob(JOB1, True))]
    img = model.render_job(0)
    assert img.width == 576 and img.histogram()[0] > 100


# -- TCP --------------------------------------------------------------------------------------
def query(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
        s.sendall(STATUS_QUERY)
        return recv_exactly(s, 4)


@pytest.mark.parametrize(("state", "expected"), [
    ("ok", PrinterState.OK), ("paper_low", PrinterState.PAPER_LOW),
    ("paper_out", PrinterState.PAPER_OUT),
])
def test_tcp_status_in_each_state(state: str, expected: PrinterState) -> None:
    with TcpShell(SimEscposPrinter(CN80, state)) as shell:
        assert parse_status(list(query(shell.port))).state == expected


def test_tcp_cover_open_answers_nothing_then_recovers() -> None:
    model = SimEscposPrinter(CN80, "cover_open")
    with TcpShell(model) as shell, socket.create_connection(("127.0.0.1", shell.port)) as s:
        s.sendall(STATUS_QUERY)
        s.settimeout(0.3)
        with pytest.raises(TimeoutError):
            s.recv(16)
        model.state = "ok"
        s.sendall(STATUS_QUERY)
        assert recv_exactly(s, 4) == b"\x12" * 4
        s.settimeout(0.1)
        with pytest.raises(TimeoutError):
            s.recv(16)  # nothing left over from the silent query


def connect_fails(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
            s.settimeout(DEADLINE)
            return s.recv(1) == b""
    except (ConnectionRefusedError, ConnectionResetError):
        return True


def test_tcp_disconnected_refuses_then_comes_back_on_the_same_port() -> None:
    model = SimEscposPrinter(CN80)
    with TcpShell(model) as shell:
        with socket.create_connection(("127.0.0.1", shell.port)) as s:
            s.sendall(STATUS_QUERY)
            assert len(recv_exactly(s, 4)) == 4
            model.state = "disconnected"
            assert recv_exactly(s, 1) == b""  # the printer dropped the connection
        wait_for(lambda: connect_fails(shell.port), "connections to be refused")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", shell.port), timeout=DEADLINE).close()
        model.state = "ok"
        wait_for(lambda: _answers(shell.port), "the printer to listen again")


def _answers(port: int) -> bool:
    try:
        return len(query(port)) == 4
    except OSError:
        return False


def test_tcp_second_client_waits_for_the_first() -> None:
    with TcpShell(SimEscposPrinter(CN80)) as shell:
        first = socket.create_connection(("127.0.0.1", shell.port))
        second = socket.create_connection(("127.0.0.1", shell.port))
        with first, second:
            first.sendall(STATUS_QUERY)
            assert len(recv_exactly(first, 4)) == 4
            second.sendall(STATUS_QUERY)
            second.settimeout(0.3)
            with pytest.raises(TimeoutError):
                second.recv(4)
            first.close()
            assert len(recv_exactly(second, 4)) == 4
        wait_for(lambda: shell.connections == 2, "both clients served")


def test_tcp_slow_printer_still_answers_and_prints() -> None:
    model = SimEscposPrinter(CN80, "slow", slow_delay=0.2, slow_read_pause=0.01)
    with TcpShell(model) as shell, socket.create_connection(("127.0.0.1", shell.port)) as s:
        s.sendall(STATUS_QUERY + JOB1)
        assert parse_status(list(recv_exactly(s, 4))).state == PrinterState.OK
        wait_for(lambda: model.jobs() == [STATUS_QUERY + JOB1], "the job")


def test_tcp_jobs_are_captured_and_rendered() -> None:
    model = SimEscposPrinter(CN80)
    with TcpShell(model) as shell:
        with socket.create_connection(("127.0.0.1", shell.port)) as s:
            s.sendall(JOB1 + JOB2)
            s.sendall(gb("连接关闭前的行") + b"\n")
        wait_for(lambda: len(model.jobs()) == 3, "three jobs")
    assert model.jobs()[:2] == [JOB1, JOB2]
    assert decode_text(model.jobs()[2], CN80) == ["连接关闭前的行"]
    img = model.render_job(0)
    assert img.width == 576 and img.histogram()[0] > 100


def test_tcp_stop_with_a_client_connected() -> None:
    shell = TcpShell(SimEscposPrinter(CN80))
    shell.start()
    with socket.create_connection(("127.0.0.1", shell.port)) as s:
        s.sendall(b"x")
        wait_for(lambda: shell.connections == 1, "the client")
        shell.stop()
        assert not shell.running
        try:
            closed = recv_exactly(s, 1)
        except ConnectionResetError:  # closed with our byte unread: the kernel sends a reset
            closed = b""
        assert closed == b""


# -- pty ----------------------------------------------------------------------------------------
def test_pty_round_trip_with_pyserial() -> None:
    model = SimEscposPrinter(CN80, "paper_low")
    with PtyShell(model) as shell, serial.Serial(shell.device_path, 9600,
                                                 timeout=DEADLINE) as port:
        port.write(STATUS_QUERY)
        assert parse_status(list(port.read(4))).state == PrinterState.PAPER_LOW
        port.write(JOB1)
        wait_for(lambda: model.jobs() == [STATUS_QUERY + JOB1], "the job over the pty")


def test_pty_disconnected_swallows_bytes() -> None:
    model = SimEscposPrinter(CN80, "disconnected")
    with PtyShell(model) as shell, serial.Serial(shell.device_path, timeout=0.3) as port:
        port.write(STATUS_QUERY)
        assert port.read(4) == b""
        model.state = "ok"
        port.timeout = DEADLINE
        port.write(STATUS_QUERY)
        assert port.read(4) == b"\x12" * 4
    assert bytes(model.received) == STATUS_QUERY


# -- control and the CLI entry point ----------------------------------------------------------
def test_apply_control() -> None:
    model = SimEscposPrinter(CN80)
    assert apply_control(model, "state paper_out\n") == "state paper_out"
    assert model.state == "paper_out"
    assert apply_control(model, "state melted").startswith("error:")
    assert apply_control(model, "jobs") == "jobs 0 printed, 0 dropped"
    assert apply_control(model, "status") == "state paper_out"
    assert apply_control(model, "  ") == ""
    assert apply_control(model, "dance").startswith("error:")


def test_run_printer_sim_serves_writes_jobs_and_takes_control_lines(tmp_path: Path) -> None:
    r, w = os.pipe()
    stdin, control = os.fdopen(r, "r"), os.fdopen(w, "w")
    stdout = io.StringIO()
    stop = threading.Event()
    codes: list[int] = []
    runner = threading.Thread(target=lambda: codes.append(run_printer_sim(
        port=0, out_dir=tmp_path, stdin=stdin, stdout=stdout, stop=stop)))
    runner.start()
    try:
        wait_for(lambda: "listening tcp" in stdout.getvalue(), "the banner")
        port = int(stdout.getvalue().split()[3])
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(JOB1)
        wait_for((tmp_path / "job-0001.png").exists, "job-0001.png")
        assert (tmp_path / "job-0001.bin").read_bytes() == JOB1
        control.write("state paper_out\n")
        control.flush()
        wait_for(lambda: "state paper_out" in stdout.getvalue(), "the control answer")
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(JOB2)
        wait_for((tmp_path / "job-0002-dropped.bin").exists, "the dropped job")
        assert not (tmp_path / "job-0002.png").exists()
    finally:
        stop.set()
        runner.join(DEADLINE)
        control.close()  # EOF ends the control thread
        wait_for(lambda: all(t.name != "sim-control" for t in threading.enumerate()),
                 "the control thread")
        stdin.close()
    assert codes == [0]
    with Image.open(tmp_path / "job-0001.png") as png:
        assert png.width == 576


def test_run_printer_sim_cli_stops_on_sigterm(tmp_path: Path) -> None:
    code = ("import sys; from drivers.sim.control import run_printer_sim; "
            "sys.exit(run_printer_sim(port=0, out_dir=sys.argv[1], state='paper_low'))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                          cwd=ROOT) as proc:
        try:
            assert proc.stdout is not None and proc.stdin is not None
            ready, _, _ = select.select([proc.stdout], [], [], DEADLINE * 2)
            assert ready, "no banner"
            banner = proc.stdout.readline().split()
            assert banner[:2] == ["listening", "tcp"], proc.stderr.read() if proc.stderr else ""
            reply = query(int(banner[3]))
            assert parse_status(list(reply)).state == PrinterState.PAPER_LOW
            proc.stdin.write("state paper_out\n")
            proc.stdin.flush()
            assert proc.stdout.readline().strip() == "state paper_out"
            assert parse_status(list(query(int(banner[3])))).state == PrinterState.PAPER_OUT
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(DEADLINE) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
