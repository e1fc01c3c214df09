"""The API's shared shape: the JSON error answer and its exception handler (`errors`), the JSON
parser (`parsers`), the typed and strict input serializers (`serializers`), the schema's error
documentation (`schema`), HTTP caching of public answers (`httpcache`) and the hot path
middleware (`hotpath`)."""
