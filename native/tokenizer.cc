// Tokenizer: text <-> token ids and chat templates. Cheap calls stay synchronous; creation (parses
// tokenizer.json) and encodeBatch run on the thread pool.
#include "addon.h"
#include "async.h"

#include <optional>

namespace oga {
namespace {

using SequencesPtr = std::unique_ptr<OgaSequences, void (*)(OgaSequences*)>;

SequencesPtr NewSequences() {
  OgaSequences* raw = nullptr;
  Check(api.OgaCreateSequences(&raw));
  return SequencesPtr(raw, [](OgaSequences* s) { api.OgaDestroySequences(s); });
}

struct Created {
  std::shared_ptr<OgaTokenizer> tokenizer;
  int32_t bos = -1, pad = -1;
  std::vector<int32_t> eos;
};

class Tokenizer : public HandleWrap<Tokenizer, OgaTokenizer> {
 public:
  static constexpr const char* kName = "Tokenizer";
  using HandleWrap::HandleWrap;

  static Napi::Value Create(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<OgaModel> model = ModelFrom(env, info.Length() > 0 ? info[0] : env.Undefined());
    return RunAsync<Created>(
        env,
        [model]() {
          OgaTokenizer* raw = nullptr;
          Check(api.OgaCreateTokenizer(model.get(), &raw));
          Created out;
          out.tokenizer = std::shared_ptr<OgaTokenizer>(raw, [model](OgaTokenizer* t) { api.OgaDestroyTokenizer(t); });
          Check(api.OgaTokenizerGetBosTokenId(raw, &out.bos));
          Check(api.OgaTokenizerGetPadTokenId(raw, &out.pad));
          const int32_t* eos = nullptr;
          size_t count = 0;
          Check(api.OgaTokenizerGetEosTokenIds(raw, &eos, &count));
          out.eos.assign(eos, eos + count);
          return out;
        },
        [](Napi::Env env, Created& c) -> Napi::Value {
          Napi::Object obj = Wrap(env, GetAddonData(env)->tokenizer, c.tokenizer);
          Tokenizer* self = Unwrap(obj);
          self->bos_ = c.bos;
          self->pad_ = c.pad;
          self->eos_ = std::move(c.eos);
          return obj;
        });
  }

  Napi::Value Encode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string text = StringArg(info, 0, "text");
    const auto& tok = Get(env);
    try {
      SequencesPtr seqs = NewSequences();
      Check(api.OgaTokenizerEncode(tok.get(), text.c_str(), seqs.get()));
      return ToInt32Array(env, api.OgaSequencesGetSequenceData(seqs.get(), 0),
                          api.OgaSequencesGetSequenceCount(seqs.get(), 0));
    } catch (const Failure& f) {
      Throw(env, f.kind, f.message);
    }
  }

  // encodeBatch(texts: string[]): Promise<Int32Array[]>, one unpadded array per text.
  Napi::Value EncodeBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "texts must be an array of strings");
    auto arr = info[0].As<Napi::Array>();
    std::vector<std::string> texts;
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value v = arr.Get(i);
      if (!v.IsString()) throw Napi::TypeError::New(env, "texts must be an array of strings");
      texts.push_back(v.As<Napi::String>().Utf8Value());
    }
    std::shared_ptr<OgaTokenizer> tok = Get(env);
    using Out = std::vector<std::vector<int32_t>>;
    return RunAsync<Out>(
        env,
        [tok, texts]() {
          Out out;
          SequencesPtr seqs = NewSequences();
          for (size_t i = 0; i < texts.size(); i++) {
            Check(api.OgaTokenizerEncode(tok.get(), texts[i].c_str(), seqs.get()));
            const int32_t* data = api.OgaSequencesGetSequenceData(seqs.get(), i);
            out.emplace_back(data, data + api.OgaSequencesGetSequenceCount(seqs.get(), i));
          }
          return out;
        },
        [](Napi::Env env, Out& out) -> Napi::Value {
          Napi::Array result = Napi::Array::New(env, out.size());
          for (size_t i = 0; i < out.size(); i++) result.Set(i, ToInt32Array(env, out[i].data(), out[i].size()));
          return result;
        });
  }

  Napi::Value Decode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<int32_t> tokens = Tokens(env, info.Length() ? info[0] : env.Undefined(), "tokens");
    return Napi::String::New(env, DecodeOne(env, tokens));
  }

  Napi::Value DecodeBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "sequences must be an array");
    auto arr = info[0].As<Napi::Array>();
    Napi::Array out = Napi::Array::New(env, arr.Length());
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value seq = arr.Get(i);
      std::vector<int32_t> tokens = Tokens(env, seq, "sequences[i]");
      out.Set(i, DecodeOne(env, tokens));
    }
    return out;
  }

  Napi::Value ToTokenId(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string s = StringArg(info, 0, "text");
    int32_t id = -1;
    Check(env, api.OgaTokenizerToTokenId(Get(env).get(), s.c_str(), &id));
    // The library answers -1 instead of failing for strings that are not a single vocabulary entry.
    if (id < 0) Throw(env, ErrorKind::Validation, "'" + s + "' is not a single token in this tokenizer's vocabulary");
    return Napi::Number::New(env, id);
  }

  // applyChatTemplate(messagesJson, template | null, tools | null, addGenerationPrompt)
  Napi::Value ApplyChatTemplate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string messages = StringArg(info, 0, "messages");
    auto optional = [&](size_t i) -> std::optional<std::string> {
      if (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined()) return std::nullopt;
      return StringArg(info, i, i == 1 ? "template" : "tools");
    };
    std::optional<std::string> tmpl = optional(1), tools = optional(2);
    bool add_generation_prompt = info.Length() > 3 && info[3].ToBoolean();
    const char* out = nullptr;
    Check(env, api.OgaTokenizerApplyChatTemplate(Get(env).get(), tmpl ? tmpl->c_str() : nullptr, messages.c_str(),
                                                 tools ? tools->c_str() : nullptr, add_generation_prompt, &out));
    return Napi::String::New(env, TakeString(out));
  }

  Napi::Value Bos(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), bos_); }
  Napi::Value Pad(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), pad_); }
  Napi::Value Eos(const Napi::CallbackInfo& info) {
    Napi::Array out = Napi::Array::New(info.Env(), eos_.size());
    for (size_t i = 0; i < eos_.size(); i++) out.Set(i, eos_[i]);
    return out;
  }

  static void Init(Napi::Env env, Napi::Object exports, AddonData* data) {
    Napi::Function cls = DefineClass(env, kName,
                                     {
                                         StaticMethod("create", &Tokenizer::Create),
                                         InstanceMethod("encode", &Tokenizer::Encode),
                                         InstanceMethod("encodeBatch", &Tokenizer::EncodeBatch),
                                         InstanceMethod("decode", &Tokenizer::Decode),
                                         InstanceMethod("decodeBatch", &Tokenizer::DecodeBatch),
                                         InstanceMethod("toTokenId", &Tokenizer::ToTokenId),
                                         InstanceMethod("applyChatTemplate", &Tokenizer::ApplyChatTemplate),
                                         InstanceAccessor("bosTokenId", &Tokenizer::Bos, nullptr),
                                         InstanceAccessor("padTokenId", &Tokenizer::Pad, nullptr),
                                         InstanceAccessor("eosTokenIds", &Tokenizer::Eos, nullptr),
                                         InstanceMethod("dispose", &Tokenizer::Dispose),
                                         InstanceAccessor("disposed", &Tokenizer::Disposed, nullptr),
                                     });
    data->tokenizer = Napi::Persistent(cls);
    exports.Set(kName, cls);
  }

 private:
  std::string DecodeOne(Napi::Env env, const std::vector<int32_t>& tokens) {
    const auto& tok = Get(env);
    // OgaTokenizerDecode divides by the token count: an empty list kills the process with SIGFPE.
    if (tokens.empty()) return "";
    const char* out = nullptr;
    Check(env, api.OgaTokenizerDecode(tok.get(), tokens.data(), tokens.size(), &out));
    return TakeString(out);
  }

  int32_t bos_ = -1, pad_ = -1;
  std::vector<int32_t> eos_;
};

}  // namespace

void InitTokenizer(Napi::Env env, Napi::Object exports, AddonData* data) { Tokenizer::Init(env, exports, data); }

std::shared_ptr<OgaTokenizer> TokenizerFrom(Napi::Env env, Napi::Value v) {
  return Tokenizer::From(env, v, GetAddonData(env)->tokenizer);
}

}  // namespace oga
