#!/bin/sh
# usage: headertest.sh c|c++ INCLUDE_DIR SOURCE
# Compiles SOURCE (which includes <hre/hre.h>) with strict flags. Uses $CC /
# $CXX when set, else cc / c++.
set -eu
lang=$1; incdir=$2; src=$3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [ "$lang" = c ]; then
  ${CC:-cc} -std=c99 -pedantic -Wall -Wextra -Werror -I"$incdir" -c "$src" -o "$out/ht.o"
else
  ${CXX:-c++} -x c++ -std=c++11 -pedantic -Wall -Wextra -Werror -I"$incdir" -c "$src" -o "$out/ht.o"
fi
echo "headertest ($lang): ok"
