"""Demo mode: bundled sample sources served on 127.0.0.1, so the console fills without internet."""
