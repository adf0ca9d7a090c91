# The README's two commands, and the steps they are made of.
#   make example   set up, build, and profile the bundled examples/data
#   make test      set up, start the test databases, lint, and run every test
.PHONY: example test setup services plugins plugin-tests lint

example: setup plugins
	cargo run --quiet -p qualityd -- profile examples/data

test: setup services plugins lint plugin-tests
	cargo test --workspace

setup:
	scripts/setup.sh

services:
	scripts/services.sh

plugins:
	cd plugins && cargo build --release

# Plugins' own unit tests (pure code: packets, SQL text, dates, partition ids, JSON
# splitting, null markers), run natively.
plugin-tests:
	cd plugins && cargo test --target x86_64-unknown-linux-gnu -p qualityd-plugin-mysql -p qualityd-plugin-files

lint:
	cargo fmt --all --check
	cd plugins && cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cd plugins && cargo clippy --workspace --all-targets -- -D warnings
