"""The learning curves' caption names what this model trained with, and nothing it did not."""

from nnlab.viz.captions import curves
from nnlab.viz.report_input import RunFacts


def test_the_training_side_names_batch_norm_dropout_and_augmentation_for_the_torch_models():
    mlp = curves(RunFacts("mlp", batch_norm=True, dropout=True, augmentation="mirror images"), validated=True)
    assert "while the weights were still changing, with batch norm on batch statistics, dropout, mirror images." in mlp
    assert mlp.endswith("So the training curve can sit above the validation one.")
    cnn = curves(RunFacts("cnn", batch_norm=True, dropout=True), validated=True)  # its batch norm is not a setting
    assert "with dropout." in cnn and "batch norm" not in cnn
    scratch = curves(RunFacts("scratch", dropout=True, augmentation="mirror images"), validated=True)
    assert "changing." in scratch and "dropout" not in scratch and "sit above" not in scratch


def test_the_losses_shown_are_said_to_be_the_log_loss_whatever_was_trained():
    assert "L2 penalty" in curves(RunFacts("scratch", weight_decay=True), True)
    assert "L2 penalty" not in curves(RunFacts("mlp", weight_decay=True), True)  # AdamW decays the weights apart
    assert "(--loss mse)" in curves(RunFacts("scratch", mse_loss=True), True)
    assert "label-smoothed" in curves(RunFacts("cnn", label_smoothing=True), True)
    assert not any(w in curves(RunFacts(None), True) for w in ("L2", "mse", "smoothed", ", with"))


def test_without_validation_values_the_caption_says_why():
    assert "--val-fraction 0" in curves(RunFacts("mlp", held_out_validation=False), validated=False)
    assert "No validation values were recorded" in curves(RunFacts(None), validated=False)
    assert "cannot show overfitting" in curves(RunFacts(None), validated=False)
    assert "A validation curve that turns up" in curves(RunFacts(None), validated=True)
