FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TRACKER_DATA_DIR=/data \
    TRACKER_HOST=0.0.0.0 \
    TRACKER_PORT=8000

RUN useradd --create-home --uid 10001 tracker \
    && mkdir /data && chown tracker:tracker /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY tracker ./tracker
RUN pip install --no-cache-dir .

USER tracker
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import os,sys,urllib.request; url = 'http://127.0.0.1:%s/healthz' % os.environ.get('TRACKER_PORT', '8000'); sys.exit(0 if urllib.request.urlopen(url, timeout=2).status == 200 else 1)"
CMD ["tracker", "serve"]
