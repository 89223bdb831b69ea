"""The two kinds of file a library holds, as the store records them and as the query language
(kind:photo, kind:note) and both faces name them. A module of their own: the command line reads
them to parse a query without loading the store's rows."""

PHOTO = "photo"
NOTE = "note"
