# The seed's design, in its style: a Flask + redis-py counter, one INCR and
# one GET per hit. Run by bench/run under gunicorn (Debian packages).
import os
import socket

from flask import Flask
from redis import Redis

app = Flask(__name__)
redis = Redis(host=os.environ.get('HOST_REDIS', 'redis'),
              port=int(os.environ.get('PORT_REDIS', '6379')))


@app.route('/')
def hello():
    redis.incr('hits')
    return 'Hello World I am %s! %s times.' % (socket.gethostname(),
                                                redis.get('hits').decode())
