"""Build a tiny, randomly initialised Idefics3 VLM (SmolVLM's architecture) and save it with its processor.

No VLM weights can be downloaded here, so tests and benchmarks build one from a
config and load it back through the same ``from_pretrained`` path users' models
take (``hf:DIR``). Its answers are noise; its shapes, chat template, image
tokens, batching and Yes/No tokens are real. Reusable: ``build_tiny_vlm(folder)``.

Sizes are kept consistent as Idefics3 requires: the processor's image size equals
the vision config's ``image_size``, and ``image_seq_len`` =
(image_size / patch_size)^2 / scale_factor^2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

__all__ = ["CHAT_TEMPLATE", "build_tiny_llm", "build_tiny_vlm", "tiny_vlm_dir"]

IMAGE_SIZE, PATCH, SCALE = 32, 8, 2
IMAGE_SEQ_LEN = (IMAGE_SIZE // PATCH) ** 2 // SCALE**2

# SmolVLM's template, shortened: "User:<image>text<end_of_utterance>\nAssistant:"
CHAT_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}"
    "{% if message['content'] is string %}{{ ': ' + message['content'] }}{% else %}"
    "{% if message['content'][0]['type'] == 'image' %}{{ ':' }}{% else %}{{ ': ' }}{% endif %}"
    "{% for part in message['content'] %}{% if part['type'] == 'text' %}{{ part['text'] }}"
    "{% elif part['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}{% endif %}"
    "<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)

_CORPUS = [
    "Yes", " Yes", "No", " No", "yes", " yes", "no", " no",
    "Is there a bus in the image? Yes, there is a red bus on the left.",
    "Is there a dog? No, there is no dog. Describe the image, especially the people.",
    "User: What is in the picture? Assistant: Two people, a car and a sign that says stop.",
]
_SPECIAL = ["<|im_start|>", "<end_of_utterance>", "<pad>", "<unk>", "<image>", "<fake_token_around_image>", "<global-img>"]


def _tokenizer() -> object:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=_SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train_from_iterator(_CORPUS * 20, trainer=trainer)
    for word in ("Yes", " Yes", "No", " No"):
        if len(tok.encode(word).ids) != 1:
            tok.add_tokens([word])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|im_start|>", eos_token="<end_of_utterance>", pad_token="<pad>",
        unk_token="<unk>", model_input_names=["input_ids", "attention_mask"],
    )


def build_tiny_vlm(folder: str | Path, *, seed: int = 0, layers: int = 2) -> Path:
    """Save a tiny Idefics3 model (about 130k parameters) and its processor under ``folder``.

    Example:
        >>> path = build_tiny_vlm(tmp_path / "tiny")  # doctest: +SKIP
        >>> load_vision_model(f"hf:{path}").describe([photo], "Describe it.")  # doctest: +SKIP
    """
    import torch
    from transformers import Idefics3Config, Idefics3ForConditionalGeneration, Idefics3Processor
    from transformers.models.idefics3.image_processing_pil_idefics3 import Idefics3ImageProcessorPil

    folder = Path(folder)
    tokenizer = _tokenizer()
    image_processor = Idefics3ImageProcessorPil(
        do_image_splitting=False, size={"longest_edge": IMAGE_SIZE}, max_image_size={"longest_edge": IMAGE_SIZE},
    )
    processor = Idefics3Processor(image_processor, tokenizer, image_seq_len=IMAGE_SEQ_LEN, chat_template=CHAT_TEMPLATE)
    tok = processor.tokenizer
    vocab = len(tok)
    config = Idefics3Config(
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": layers, "num_attention_heads": 2,
                       "image_size": IMAGE_SIZE, "patch_size": PATCH},
        text_config={"model_type": "llama", "vocab_size": vocab, "hidden_size": 32, "intermediate_size": 64,
                     "num_hidden_layers": layers, "num_attention_heads": 2, "num_key_value_heads": 2,
                     "max_position_embeddings": 512, "pad_token_id": tok.pad_token_id,
                     "bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id},
        scale_factor=SCALE, image_token_id=tok.convert_tokens_to_ids("<image>"),
        pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
    )
    torch.manual_seed(seed)
    model = Idefics3ForConditionalGeneration(config).eval()
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


TEXT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}<end_of_utterance>\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


def build_tiny_llm(folder: str | Path, *, seed: int = 0) -> Path:
    """Save a tiny random Llama text model with a chat template (for ``hf:`` as the reasoning LLM)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = Path(folder)
    tok: Any = _tokenizer()
    tok.chat_template = TEXT_TEMPLATE
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
                         pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_vlm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved tiny VLM folder, built once per test session (import this fixture into a test module)."""
    pytest.importorskip("transformers")
    return build_tiny_vlm(tmp_path_factory.mktemp("tiny-vlm"))
