import sys

from keras_xai.cli.main import main

sys.exit(main())
