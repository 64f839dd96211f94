"""One crawl shared by several worker processes through Redis, saved by one store writer.

`job` owns the Redis keys of a shared job and of the document queue, `scheduler` the shared
request queue (scrapy-redis' queue and duplicate filter, hosts leased to one worker at a time),
`worker` the Scrapy side of a worker (add-on, extension, queueing pipeline) and `writer` the loop
of `scrapy store-writer` that saves queued documents through `crawlers.junction`.
"""
