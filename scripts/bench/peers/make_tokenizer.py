"""Writes a small word-level Hugging Face tokenizer to a folder, for peers that need one (guidellm,
aiperf) on a machine without network access to the Hugging Face hub. One token per word or
punctuation mark, roughly what `stampede` estimates; the words are the sonnets' that Stampede's
prompts use, so the peers' prompts look alike. When Faker is importable (it is in guidellm's venv) its
English lorem words are added too, with capitals: guidellm's synthetic prompts are Faker text cut to
N tokens and decoded with skip_special_tokens, so a word outside the vocabulary ([UNK]) would drop out
and shrink the prompt (100 tokens gave 25 words without them).

    python make_tokenizer.py OUT_DIR [CORPUS]
"""
import json
import os
import re
import sys

from tokenizers import Tokenizer, models, pre_tokenizers, decoders

out = sys.argv[1]
corpus = sys.argv[2] if len(sys.argv) > 2 else None
words = set()
if corpus and os.path.exists(corpus):
    words.update(re.findall(r"\w+|[^\w\s]", open(corpus, encoding="utf-8").read()))
try:
    from faker.providers.lorem.en_US import Provider as Lorem
    words.update(w for word in Lorem.word_list for w in (word, word.capitalize()))
except ImportError:
    pass
words.update("the quick brown fox jumps over lazy dog and a of to in is it that".split())
vocab = {"[UNK]": 0, "<s>": 1, "</s>": 2}
for word in sorted(words):
    vocab.setdefault(word, len(vocab))
tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
tokenizer.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
os.makedirs(out, exist_ok=True)
tokenizer.save(os.path.join(out, "tokenizer.json"))
with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
    json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "unk_token": "[UNK]", "bos_token": "<s>",
               "eos_token": "</s>", "model_max_length": 1000000}, f)
with open(os.path.join(out, "config.json"), "w") as f:
    json.dump({"model_type": "gpt2", "vocab_size": len(vocab), "bos_token_id": 1, "eos_token_id": 2}, f)
print(f"tokenizer with {len(vocab)} words in {out}")
