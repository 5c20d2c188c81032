// Tokenizer: text <-> token ids and chat templates. Cheap calls stay synchronous; creation (parses
// tokenizer.json) and encodeBatch run on the environment's executor (core/executor.h).
#include "addon.h"
#include "core/async.h"

#include <optional>

namespace oga {
namespace {

using SequencesPtr = std::unique_ptr<OgaSequences, void (*)(OgaSequences*)>;

SequencesPtr NewSequences() {
  OgaSequences* raw = nullptr;
  Check(api.OgaCreateSequences(&raw));
  return SequencesPtr(raw, [](OgaSequences* s) { api.OgaDestroySequences(s); });
}

struct Matrix {
  std::vector<int32_t> data;
  size_t rows = 0, columns = 0;
};

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

  // encodeBatch(texts: string[]): Promise<{ data: Int32Array, shape: [rows, columns] }>: one matrix, shorter rows
  // padded with pad_token_id by the library, as batched generation takes it.
  Napi::Value EncodeBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) Throw(env, ErrorKind::Validation, "texts must be an array of strings");
    auto arr = info[0].As<Napi::Array>();
    std::vector<std::string> texts;
    for (uint32_t i = 0; i < arr.Length(); i++) texts.push_back(StringValue(env, arr.Get(i), "texts[" + std::to_string(i) + "]"));
    std::shared_ptr<OgaTokenizer> tok = Get(env);
    return RunAsync<Matrix>(
        env,
        [tok, texts]() {
          std::vector<const char*> ptrs;
          for (const auto& t : texts) ptrs.push_back(t.c_str());
          OgaTensor* raw = nullptr;
          Check(api.OgaTokenizerEncodeBatch(tok.get(), ptrs.data(), ptrs.size(), &raw));
          std::unique_ptr<OgaTensor, void (*)(OgaTensor*)> tensor(raw, [](OgaTensor* t) { api.OgaDestroyTensor(t); });
          int64_t shape[2] = {0, 0};
          Check(api.OgaTensorGetShape(raw, shape, 2));
          void* data = nullptr;
          Check(api.OgaTensorGetData(raw, &data));
          Matrix out;
          out.rows = static_cast<size_t>(shape[0]);
          out.columns = static_cast<size_t>(shape[1]);
          auto* ids = static_cast<const int32_t*>(data);
          out.data.assign(ids, ids + out.rows * out.columns);
          return out;
        },
        [](Napi::Env env, Matrix& m) -> Napi::Value {
          Napi::Object result = Napi::Object::New(env);
          result.Set("data", ToInt32Array(env, m.data.data(), m.data.size()));
          Napi::Array shape = Napi::Array::New(env, 2);
          shape.Set(0u, Napi::Number::New(env, static_cast<double>(m.rows)));
          shape.Set(1u, Napi::Number::New(env, static_cast<double>(m.columns)));
          result.Set("shape", shape);
          return result;
        });
  }

  // updateOptions(options: Record<string, string>): the library's tokenizer options (add_special_tokens, ...).
  Napi::Value UpdateOptions(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) Throw(env, ErrorKind::Validation, "options must be an object");
    Napi::Object obj = info[0].As<Napi::Object>();
    Napi::Array names = obj.GetPropertyNames();
    std::vector<std::string> keys, values;
    for (uint32_t i = 0; i < names.Length(); i++) {
      Napi::Value v = obj.Get(names.Get(i));
      if (!v.IsString()) Throw(env, ErrorKind::Validation, "tokenizer option values must be strings");
      keys.push_back(names.Get(i).ToString().Utf8Value());
      values.push_back(v.As<Napi::String>().Utf8Value());
    }
    std::vector<const char*> key_ptrs, value_ptrs;
    for (size_t i = 0; i < keys.size(); i++) {
      key_ptrs.push_back(keys[i].c_str());
      value_ptrs.push_back(values[i].c_str());
    }
    Check(env, api.OgaUpdateTokenizerOptions(Get(env).get(), key_ptrs.data(), value_ptrs.data(), keys.size()));
    return env.Undefined();
  }

  Napi::Value Decode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<int32_t> tokens = Tokens(env, info.Length() ? info[0] : env.Undefined(), "tokens");
    return Napi::String::New(env, DecodeOne(env, tokens));
  }

  Napi::Value DecodeBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray()) Throw(env, ErrorKind::Validation, "sequences must be an array");
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

  // Cached at creation, but answered only while the tokenizer is alive.
  Napi::Value Bos(const Napi::CallbackInfo& info) {
    Get(info.Env());
    return Napi::Number::New(info.Env(), bos_);
  }
  Napi::Value Pad(const Napi::CallbackInfo& info) {
    Get(info.Env());
    return Napi::Number::New(info.Env(), pad_);
  }
  Napi::Value Eos(const Napi::CallbackInfo& info) {
    Get(info.Env());
    Napi::Array out = Napi::Array::New(info.Env(), eos_.size());
    for (size_t i = 0; i < eos_.size(); i++) out.Set(i, eos_[i]);
    return out;
  }

  // Tool-call markers; the library fails (with its own message) when the model defines none.
  template <decltype(&::OgaTokenizerGetBotTokenId) Api::*Getter>
  Napi::Value ToolToken(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int32_t id = -1;
    Check(env, (api.*Getter)(Get(env).get(), &id));
    return Napi::Number::New(env, id);
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
                                         InstanceAccessor("botTokenId", &Tokenizer::ToolToken<&Api::OgaTokenizerGetBotTokenId>, nullptr),
                                         InstanceAccessor("eotTokenId", &Tokenizer::ToolToken<&Api::OgaTokenizerGetEotTokenId>, nullptr),
                                         InstanceAccessor("borTokenId", &Tokenizer::ToolToken<&Api::OgaTokenizerGetBorTokenId>, nullptr),
                                         InstanceAccessor("eorTokenId", &Tokenizer::ToolToken<&Api::OgaTokenizerGetEorTokenId>, nullptr),
                                         InstanceMethod("updateOptions", &Tokenizer::UpdateOptions),
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
