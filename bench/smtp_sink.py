"""A mail server on loopback that accepts every message and keeps none.

Outside debug Mbrojtje needs a mail server (DJANGO_EMAIL_HOST) and sends the
notification e-mails of referrals as their changes commit. The load test
gives it this one, so that sending costs what it costs and nothing leaves the
machine. It writes the port it listens on to --port-file and, when stopped,
how many messages it took to --count-file.

    python -m bench.smtp_sink --port-file PATH --count-file PATH
"""

import argparse
import asyncio
import signal
from pathlib import Path

received = 0


async def _session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    global received
    writer.write(b"220 localhost load-test sink\r\n")
    try:
        while line := await reader.readline():
            command = line[:4].upper()
            if command in (b"EHLO", b"HELO"):
                writer.write(b"250 localhost\r\n")
            elif command == b"DATA":
                writer.write(b"354 end with <CRLF>.<CRLF>\r\n")
                await writer.drain()
                while (await reader.readline()) not in (b".\r\n", b""):
                    pass
                received += 1
                writer.write(b"250 accepted\r\n")
            elif command == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:  # MAIL, RCPT, RSET, NOOP
                writer.write(b"250 ok\r\n")
            await writer.drain()
    finally:
        writer.close()


async def _serve(port_file: Path) -> None:
    server = await asyncio.start_server(_session, "127.0.0.1", 0)
    port_file.write_text(str(server.sockets[0].getsockname()[1]))
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--count-file", type=Path, required=True)
    options = parser.parse_args()
    asyncio.run(_serve(options.port_file))
    options.count_file.write_text(str(received))


if __name__ == "__main__":
    main()
