# Doxygen INPUT_FILTER for the public headers (docs/Doxyfile.in). The headers
# keep their house style; this only marks, for Doxygen, the comments that
# already document something:
# - the opening comment of a header (line 1 is a lone "/*") describes the file;
# - a plain comment after a #define, a struct field or an enum value on the
#   same line documents that macro, field or value (as "/**<" would).
1s|^/\*$|/** @file|
/^[[:space:]]*#[[:space:]]*define[[:space:]]/s|^([^/]*[^[:space:]/])([[:space:]]+)/\*([^*!<]\|$)|\1\2/**<\3|
/^[[:space:]]*[^#/*[:space:]]/s|^([^/]*[;,])([[:space:]]*)/\*([^*!<]\|$)|\1\2/**<\3|
/^[[:space:]]+[A-Z][A-Z0-9_]*[[:space:]]*=/s|^([^/]*[^[:space:]/])([[:space:]]+)/\*([^*!<]\|$)|\1\2/**<\3|
/^[[:space:]]*(\/\*\*|\*)/s/<([a-z_]+)>/\\<\1\\>/g
