"""Draw a digit, get the top-k classes: `python app.py [--model F] [--share] [--host H] [--port P] [--top-k K]`.

Works with no arguments, as a Hugging Face Space runs it. TensorFlow-free.
"""

import argparse
import os
import sys

from starlette.middleware import Middleware

from demo.classifier import DEFAULT_MODEL, Classifier, ModelError
from demo.components import NOT_UPLOADED
from demo.correct import Corrector
from demo.correction_store import DEFAULT_STORE
from demo.memory import tune_malloc
from demo.pad import MAX_PAYLOAD
from demo.server import os_error_handler, port_in_use, quiet_foreign_file_records, raise_fd_limit
from demo.serving.limits import KB, MB, BodyLimit
from demo.serving.routes import PREFIX, PadRoutes
from demo.stores import open_store
from demo.ui import CSS, KEEP_UPLOADS, build_app

CONCURRENCY = 2  # chosen with bench.load on 2 cores: BENCHMARKS.md, "Load"; README, "Serving under load"
# What one visitor may cost a public link (README, "Safe to share"):
MAX_FILE_SIZE = "10mb"  # an upload; a phone photo is 2-5 MB
BODIES = {  # bytes a request body may hold, per route, refused with 413 before it is read (demo.serving.limits)
    "/upload": 10 * MB + 64 * KB,  # MAX_FILE_SIZE and the multipart form around it
    PREFIX + "/": MAX_PAYLOAD + 4 * KB,  # the pad's drawing and JSON's few fields (demo.serving.routes)
}
OTHER_BODIES = 64 * KB  # every other route (the queue's /call/*, /queue/join, /component_server): small JSON
QUEUE_SIZE = 64  # events waiting at once, page and API together; more are refused at once
SESSIONS = 500  # session states kept (every API call opens one), oldest dropped first


def default_threads(concurrency):
    """Split the cores between the requests worked on at once, so they never oversubscribe them."""
    return max(1, (os.cpu_count() or 1) // max(1, concurrency))


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--model", default=str(DEFAULT_MODEL), help="ONNX model following the digit contract")
    p.add_argument("--share", action="store_true", help="also serve on a public gradio.live link")
    p.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        help="address to listen on (0.0.0.0 for every interface)",
    )
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    p.add_argument(
        "--top-k", type=int, default=3, choices=range(1, 11), metavar="{1..10}", help="how many digits to show"
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=CONCURRENCY,
        help="requests worked on at once; more only queue for the same cores (see bench.load)",
    )
    p.add_argument(
        "--threads", type=int, default=0, help="onnxruntime intra-op threads per request; 0 = cores / concurrency"
    )
    p.add_argument(
        "--keep-uploads",
        type=int,
        default=KEEP_UPLOADS,
        metavar="SECONDS",
        help="uploaded and generated files older than this are deleted",
    )
    p.add_argument(
        "--corrections",
        default=str(DEFAULT_STORE),
        metavar="PATH",
        help="SQLite file, or postgresql:// URL (one store for every replica), that keeps the corrections "
        "people give (the page says what is kept)",
    )
    p.add_argument("--no-corrections", action="store_true", help="take no corrections; nothing is written")
    args = p.parse_args(argv)
    if port_in_use(args.host, args.port):
        sys.exit(
            f"error: port {args.port} on {args.host} is already in use (is the app running already?); "
            f"choose another with --port {args.port + 1}."
        )
    tune_malloc()
    raise_fd_limit()
    quiet_foreign_file_records(NOT_UPLOADED)
    try:
        classifier = Classifier(args.model, threads=args.threads or default_threads(args.concurrency))
    except ModelError as e:
        sys.exit(f"error: {e}")
    corrector = Corrector(classifier, None if args.no_corrections else open_store(args.corrections))
    if corrector.problem:
        print(f"warning: {corrector.problem} The app serves without keeping corrections until that is fixed.")
    app = build_app(
        classifier,
        top_k=args.top_k,
        concurrency=args.concurrency,
        keep_uploads=args.keep_uploads,
        corrector=corrector,
    )
    app.queue(default_concurrency_limit=args.concurrency, max_size=QUEUE_SIZE)
    app.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        max_file_size=MAX_FILE_SIZE,
        css=CSS,
        state_session_capacity=SESSIONS,
        app_kwargs={
            "exception_handlers": {OSError: os_error_handler},
            "middleware": [
                Middleware(BodyLimit, limits=BODIES, default=OTHER_BODIES),
                Middleware(PadRoutes, answer=app.pad.answer, limit=BODIES[PREFIX + "/"]),
            ],
        },
    )


if __name__ == "__main__":
    main()
