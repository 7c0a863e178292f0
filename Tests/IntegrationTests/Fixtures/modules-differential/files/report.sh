#!/bin/sh
# Run by the script module: leaves a marker that the state dump compares.
echo "script ran with $1" > /srv/difftest/script-marker
