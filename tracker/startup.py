"""What a server process does once the application is loaded."""

import gc


def settle():
    """Freeze what startup loaded (Django, the apps, the pinyin dictionaries: some 250,000
    objects, all kept for the life of the process), so that no later garbage collection
    walks it. A full collection walked it in about 0.1 s, which the request that happened to
    set it off paid; an API walk of 1,000-record pages set one off every 30 pages or so."""
    gc.collect()
    gc.freeze()
