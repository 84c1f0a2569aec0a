from .cli import main

if __name__ == "__main__":  # not when a trainer process imports it as its parent's main module
    raise SystemExit(main())
