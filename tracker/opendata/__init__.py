"""The bulk downloads of the public register: the files (``files``), what each of their
columns means in English and Chinese (``datapackage``), and the /downloads/ pages."""
