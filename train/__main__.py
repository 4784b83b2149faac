"""python -m train --help"""

import sys

from train.config import from_args


def main(argv=None):
    cfg = from_args(argv)
    if problem := cfg.problem():
        sys.exit(f"error: {problem}")
    from train import data, from_onnx

    try:  # a wrong --data or --init is told in a second, before TensorFlow loads
        data.resolve(cfg.data)
        if cfg.init:
            from_onnx.check_init(cfg.init)
    except (data.DataError, from_onnx.InitError) as e:
        sys.exit(f"error: {e}")
    from train import model, recipe, train

    try:
        recipe.run_recipe(cfg)
    except (data.DataError, model.WeightsError, from_onnx.InitError, train.TrainError) as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
