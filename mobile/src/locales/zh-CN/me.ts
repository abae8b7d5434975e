export default {
  title: "我的",
  roles: "我的角色",
  username: "账号",
};
