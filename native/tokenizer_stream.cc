// TokenizerStream: incremental decoding, one token at a time. It holds back bytes of an incomplete UTF-8
// character, so a multi-byte character split across tokens is never emitted in halves.
#include "addon.h"

namespace oga {
namespace {

class TokenizerStream : public HandleWrap<TokenizerStream, OgaTokenizerStream> {
 public:
  static constexpr const char* kName = "TokenizerStream";
  using HandleWrap::HandleWrap;

  static Napi::Value Create(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<OgaTokenizer> tok = TokenizerFrom(env, info.Length() > 0 ? info[0] : env.Undefined());
    OgaTokenizerStream* raw = nullptr;
    Check(env, api.OgaCreateTokenizerStream(tok.get(), &raw));
    auto handle = std::shared_ptr<OgaTokenizerStream>(raw, [tok](OgaTokenizerStream* s) {
      api.OgaDestroyTokenizerStream(s);
    });
    return Wrap(env, GetAddonData(env)->tokenizer_stream, handle);
  }

  Napi::Value Decode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int32_t token = TokenArg(info, 0, "token");
    const char* out = nullptr;
    Check(env, api.OgaTokenizerStreamDecode(Get(env).get(), token, &out));
    // `out` belongs to the stream (valid until its next call): copied, not freed.
    return Napi::String::New(env, out ? out : "");
  }

  static void Init(Napi::Env env, Napi::Object exports, AddonData* data) {
    Napi::Function cls = DefineClass(env, kName,
                                     {
                                         StaticMethod("create", &TokenizerStream::Create),
                                         InstanceMethod("decode", &TokenizerStream::Decode),
                                         InstanceMethod("dispose", &TokenizerStream::Dispose),
                                         InstanceAccessor("disposed", &TokenizerStream::Disposed, nullptr),
                                     });
    data->tokenizer_stream = Napi::Persistent(cls);
    exports.Set(kName, cls);
  }
};

}  // namespace

void InitTokenizerStream(Napi::Env env, Napi::Object exports, AddonData* data) {
  TokenizerStream::Init(env, exports, data);
}

}  // namespace oga
