"""python -m train --help"""

import sys

from train.config import from_args


def main(argv=None):
    cfg = from_args(argv)
    from train import data, from_onnx, model, recipe, train  # TensorFlow loads after --help has had its chance

    try:
        recipe.run_recipe(cfg)
    except (data.DataError, model.WeightsError, from_onnx.InitError, train.TrainError) as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
