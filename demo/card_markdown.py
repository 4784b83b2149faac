"""The model card as a person reads it: the card's fields (demo.card) and the test metrics, in Markdown."""

from __future__ import annotations

from pathlib import Path

from demo.card import NETWORKS
from demo.classifier import Classifier


def model_card(classifier: Classifier, metrics: dict | None) -> str:
    """The Model card tab as Markdown: accuracy, how it was trained, and the test confusion matrix."""
    card = classifier.card
    size_mb = classifier.path.stat().st_size / 2**20
    if card is None:
        return (
            f"**Model** `{classifier.path.name}` ({size_mb:.1f} MB, onnxruntime on CPU). It carries no model "
            "card (it was not exported by `python -m export`), so its accuracy and recipe are unknown."
        )
    recipe, averaged = card.recipe, card.averaged
    val = f"validation accuracy {card.val_accuracy:.2%}" if card.val_accuracy is not None else "validation accuracy ?"
    epoch = "?" if card.best_epoch is None else card.best_epoch
    chosen = (
        f"the weights at the end of {len(averaged['sources'])} training cycles averaged ({val})"
        if averaged
        else f"best of {card.epochs or '?'} epochs chosen on a validation split (epoch {epoch}, {val})"
    )
    lines = [
        f"**Model** `{classifier.path.name}` ({size_mb:.1f} MB, onnxruntime on CPU). "
        f"Test accuracy **{card.test_accuracy:.2%}** on {card.test_images} MNIST test digits; {chosen}."
    ]
    if card.quantization:
        lines.append(f"**Quantized**: {card.quantization} (float32 model: {card.fp32_test_accuracy:.2%}).")
    if recipe:
        init = recipe.get("init")
        tuned = recipe.get("finetune")
        start = (
            f"an earlier model's weights (`{Path(init).name}`, {'fine-tuned' if tuned else 'a warm restart'})"
            if init
            else "ImageNet"
            if recipe.get("weights") == "imagenet"
            else "scratch"
        )
        network = NETWORKS.get(arch := recipe.get("arch", next(iter(NETWORKS))), arch)
        lines.append(
            f"**Training**{' (the last cycle)' if averaged else ''}: {network} from {start}, "
            f"{recipe.get('optimizer')} lr {recipe.get('lr')} ({recipe.get('schedule')}"
            f"{f', fitted to {minutes:g} minutes' if (minutes := card.fitted_minutes) else ''}), "
            f"batch {recipe.get('batch_size')}, "
            f"label smoothing {recipe.get('label_smoothing')}, weight EMA {recipe.get('ema')}, "
            + (
                "no augmentation; "
                if recipe.get("no_augment")
                else f"augmentation: rotation ±{recipe.get('rotation')}°, zoom ±{recipe.get('zoom')}, "
                f"shift ±{recipe.get('shift')}"
                f"{f', pen width ±{stroke}' if (stroke := recipe.get('stroke')) else ''}"
                f"{f', the writing forms on {forms:.0%} of their digits' if (forms := recipe.get('styles')) else ''}"
                f"{f', {drawn:.0%} redrawn with the pad pens' if (drawn := recipe.get('redrawn')) else ''}; "
            )
            + f"{recipe.get('precision_used')}, seed {recipe.get('seed')}."
        )
        if tuned:
            lines.append(
                f"**Fine-tuned on {tuned['corrections_train']} corrections** people gave (and "
                f"{tuned['corrections_val']} more held out to choose the epoch), with {tuned['replay']:g} "
                "MNIST digits replayed per correction so it forgets nothing (`python -m train.finetune`)."
            )
    if averaged:
        each = ", ".join(f"{a:.2%}" for a in averaged["val_accuracy_each"])
        lines.append(
            f"**Weight averaging** (SWA over warm restarts): the weights at the end of each cycle "
            f"(validation accuracy {each}) averaged into one model, its BatchNorm statistics measured "
            f"again on {averaged['bn_images']:,} training digits. Same size and speed as one model."
        )
    lines.append(f"**Input contract**: {card.contract}.")
    test = (metrics or {}).get("test")
    if test:
        lines.append(
            "| digit | " + " | ".join(map(str, range(10))) + " |\n|---|" + "---|" * 10 + "\n"
            "| test accuracy | " + " | ".join(f"{a:.2%}" for a in test["per_digit"]) + " |"
        )
        cm = test["confusion"]
        lines.append(
            "Confusion matrix (rows: true digit, columns: predicted):\n\n"
            "| | "
            + " | ".join(map(str, range(10)))
            + " |\n|---|"
            + "---|" * 10
            + "\n"
            + "\n".join(f"| **{i}** | " + " | ".join(str(v) for v in row) + " |" for i, row in enumerate(cm))
        )
    return "\n\n".join(lines)
